/** Sandbox factory: alternatives side by side behind a string key. */
import { type OciOptions, OciSandbox } from "./oci.ts";
import type { Sandbox } from "./sandbox.ts";

export type SandboxKind = "auto" | "docker" | "podman";

export const SANDBOX_KINDS: readonly SandboxKind[] = ["auto", "docker", "podman"];

export interface SandboxOptions extends OciOptions {}

const FACTORIES: Record<SandboxKind, (opts: SandboxOptions) => Sandbox> = {
  auto: (opts) => new OciSandbox(opts),
  docker: (opts) => new OciSandbox({ ...opts, engine: "docker" }),
  podman: (opts) => new OciSandbox({ ...opts, engine: "podman" }),
};

export function createSandbox(kind: SandboxKind | string = "auto", opts: SandboxOptions = {}): Sandbox {
  const make = FACTORIES[kind as SandboxKind];
  if (!make) throw new Error(`unknown sandbox kind "${kind}" (expected one of: ${SANDBOX_KINDS.join(", ")})`);
  return make(opts);
}

export { detectEngine } from "./engines.ts";
export type { OciOptions } from "./oci.ts";
export { OciSandbox } from "./oci.ts";
export type * from "./sandbox.ts";
export { SESSION, SESSION_LABEL } from "./session.ts";
