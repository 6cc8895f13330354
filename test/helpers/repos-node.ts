import { execFileSync } from "node:child_process";
import { TestRepo } from "./repos.ts";

const RANGE_BUGGY = `/** Limits x to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  // bug: the upper bound is never applied
  return Math.max(lo, x);
}

/** The integers lo, lo + 1, …, hi - 1. */
export function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(i);
  return out;
}
`;

const RANGE_FIXED = `/** Limits x to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** The integers lo, lo + 1, …, hi - 1. */
export function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(i);
  return out;
}
`;

const TEST = (withHigh: boolean) =>
  [
    'import { describe, expect, it } from "vitest";',
    'import { clamp, range } from "../src/range.ts";',
    "",
    'describe("clamp", () => {',
    '  it("keeps the lower bound", () => {',
    "    expect(clamp(-5, 0, 10)).toBe(0);",
    "  });",
    ...(withHigh
      ? ['  it("keeps the upper bound", () => {', "    expect(clamp(50, 0, 10)).toBe(10);", "  });"]
      : []),
    "});",
    "",
    'it("range counts up to hi", () => {',
    "  expect(range(1, 4)).toEqual([1, 2, 3]);",
    "});",
    "",
  ].join("\n");

/** The vitest release line the TypeScript project depends on (its parser has a fixture of this major). */
export const VITEST_RANGE = "^5.1.0";

/**
 * A small TypeScript package tested with vitest, its package-lock.json made by a real `npm install
 * --package-lock-only` (the npm registry is reachable; npm's own cache serves repeated runs). PR #4 fixes
 * clamp's upper bound and adds its test, merged with a merge commit.
 */
export function typescriptProject(): TestRepo {
  const r = new TestRepo("sweu-ts-");
  r.write({
    "package.json": `${JSON.stringify(
      {
        name: "ranges",
        version: "1.0.0",
        private: true,
        type: "module",
        scripts: { test: "vitest run" },
        devDependencies: { vitest: VITEST_RANGE },
      },
      null,
      2,
    )}\n`,
  });
  execFileSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: r.dir,
    stdio: "pipe",
    timeout: 300_000,
  });
  r.commit("Initial ranges package", {
    ".gitignore": "node_modules/\n",
    "tsconfig.json": `${JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "NodeNext",
          strict: true,
          noEmit: true,
          allowImportingTsExtensions: true,
        },
      },
      null,
      2,
    )}\n`,
    "src/range.ts": RANGE_BUGGY,
    "test/range.test.ts": TEST(false),
    "README.md": "# ranges\n",
  });
  r.mergePr(4, "fix-clamp", "clamp ignores the upper bound", "clamp(50, 0, 10) returns 50.\n\nFixes #3", [
    { "src/range.ts": RANGE_FIXED, "test/range.test.ts": TEST(true) },
  ]);
  return r;
}
