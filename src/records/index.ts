export * from "./built.ts";
export * from "./candidate.ts";
export * from "./common.ts";
export * from "./environment.ts";
export * from "./instance.ts";
export * from "./rejection.ts";
export * from "./task.ts";
export * from "./universe.ts";
