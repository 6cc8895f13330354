/**
 * A mutation as patches: the bug (environment's commit → buggy) and the gold patch, the bug reversed
 * (buggy → environment's commit), both as git writes them, so `git apply` takes them in /testbed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { run } from "../util/exec.ts";

export interface FileChange {
  path: string;
  before: string;
  after: string;
}

/** `git diff --no-index` of one file from `from` to `to`, with a/ and b/ naming the repository path. */
async function diffOne(dir: string, path: string, from: string, to: string): Promise<string> {
  for (const [side, text] of [
    ["a", from],
    ["b", to],
  ] as const) {
    mkdirSync(dirname(join(dir, side, path)), { recursive: true });
    writeFileSync(join(dir, side, path), text);
  }
  const r = await run(
    "git",
    ["-C", dir, "diff", "--no-index", "--no-color", "--no-ext-diff", "--no-prefix", `a/${path}`, `b/${path}`],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  // Exit 1 means "differs"; anything else is an error.
  if (r.exitCode > 1) throw new Error(`git diff --no-index failed: ${r.stderr}`);
  return r.stdout;
}

/** The unified diff turning every `before` into its `after` (empty when nothing changes). */
export async function unifiedDiff(changes: readonly FileChange[], reverse = false): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "sweu-synth-diff-"));
  try {
    const parts: string[] = [];
    for (const c of [...changes].sort((a, b) => a.path.localeCompare(b.path))) {
      if (c.before === c.after) continue;
      parts.push(await diffOne(dir, c.path, reverse ? c.after : c.before, reverse ? c.before : c.after));
    }
    return parts.join("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines a patch changes: added plus removed (the size of a bug, as SWE-smith counts it). */
export function changedLines(patch: string): number {
  let n = 0;
  for (const l of patch.split("\n")) {
    if ((l.startsWith("+") && !l.startsWith("+++ ")) || (l.startsWith("-") && !l.startsWith("--- "))) n++;
  }
  return n;
}

/** The sections of a patch, one per file. */
export function fileSections(patch: string): { path: string; section: string }[] {
  return patch
    .split(/^(?=diff --git )/m)
    .filter((s) => s.startsWith("diff --git "))
    .map((section) => ({ path: /^diff --git a\/(.+?) b\//.exec(section)?.[1] ?? "", section }));
}
