/**
 * What recent commits did to the functions at the environment's commit, read from the run's clone: for
 * each function a recent commit changed and nothing changed since, its text before that commit and the
 * lines the commit added. History reversion puts a function back as it was; hunk removal takes out one of
 * the statements the commit added (BugPilot: bugs made while changing code train better than one-liners).
 */
import { run } from "../util/exec.ts";
import { LANGS } from "./lang.ts";
import { type FunctionSite, freeTrees, functionsOf, type SourceFile, sourceFile } from "./source.ts";
import type { RecentChange } from "./strategies.ts";

/** Added lines (1-based, new side) per file of a zero-context diff. */
export function addedLines(diff: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  let file: string | undefined;
  for (const l of diff.split("\n")) {
    const f = /^\+\+\+ b\/(.+)$/.exec(l);
    if (f) {
      file = f[1]!;
      continue;
    }
    if (l.startsWith("+++ ")) file = undefined;
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@/.exec(l);
    if (!h || !file) continue;
    const start = Number(h[1]);
    const count = h[2] === undefined ? 1 : Number(h[2]);
    const rows = out.get(file) ?? [];
    for (let i = 0; i < count; i++) rows.push(start + i);
    out.set(file, rows);
  }
  return out;
}

async function show(gitDir: string, rev: string, path: string): Promise<string | undefined> {
  const r = await run("git", ["-C", gitDir, "show", `${rev}:${path}`], { maxBuffer: 64 * 1024 * 1024 });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** Pathspecs for the languages of `files`, e.g. `*.py`. */
function pathspecs(files: readonly SourceFile[]): string[] {
  const exts = new Set(files.flatMap((f) => LANGS[f.lang]!.extensions));
  return [...exts].map((e) => `*.${e}`);
}

/** One commit's changes to the functions at the environment's commit. */
async function changesOf(
  gitDir: string,
  commit: string,
  byPath: Map<string, FunctionSite[]>,
  specs: string[],
): Promise<RecentChange[]> {
  const diff = await run(
    "git",
    ["-C", gitDir, "diff", "-U0", "--no-color", "--no-ext-diff", `${commit}^`, commit, "--", ...specs],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  if (diff.exitCode !== 0) return [];
  const out: RecentChange[] = [];
  for (const [path, rows] of addedLines(diff.stdout)) {
    const atBase = byPath.get(path);
    if (!atBase) continue;
    const [now, before] = await Promise.all([show(gitDir, commit, path), show(gitDir, `${commit}^`, path)]);
    if (now === undefined || before === undefined) continue;
    const [fNow, fBefore] = await Promise.all([sourceFile(path, now), sourceFile(path, before)]);
    try {
      if (!fNow || !fBefore) continue;
      const prior = new Map(functionsOf(fBefore).map((f) => [f.name, f.node.text]));
      for (const fn of functionsOf(fNow)) {
        const first = fn.node.startPosition.row + 1;
        const last = fn.node.endPosition.row + 1;
        const touched = rows.filter((r) => r >= first && r <= last);
        const base = atBase.find((b) => b.name === fn.name && b.node.text === fn.node.text);
        const old = prior.get(fn.name);
        if (!touched.length || !base || old === undefined || old === fn.node.text) continue;
        const shift = base.node.startPosition.row - fn.node.startPosition.row;
        out.push({ site: base, commit, before: old, added: touched.map((r) => r - 1 + shift) });
      }
    } finally {
      freeTrees([fNow, fBefore].filter((f): f is SourceFile => !!f));
    }
  }
  return out;
}

/**
 * Recent changes to the functions of `files` (parsed at `base`): the last `commits` non-merge commits up to
 * `base` that touch files of these languages, newest first. A function changed twice counts at its newest
 * change (only there is the text before it one clean revert away).
 */
export async function recentChanges(
  gitDir: string,
  base: string,
  files: readonly SourceFile[],
  o: { commits?: number } = {},
): Promise<RecentChange[]> {
  if (!files.length) return [];
  const specs = pathspecs(files);
  const log = await run("git", [
    "-C",
    gitDir,
    "log",
    "--no-merges",
    `-n${o.commits ?? 40}`,
    "--format=%H %P",
    base,
    "--",
    ...specs,
  ]);
  if (log.exitCode !== 0) return [];
  const byPath = new Map<string, FunctionSite[]>();
  for (const f of files) byPath.set(f.path, functionsOf(f));
  const out: RecentChange[] = [];
  const seen = new Set<string>();
  for (const l of log.stdout.split("\n")) {
    const [commit, parent] = l.trim().split(" ");
    if (!commit || !parent) continue;
    for (const rc of await changesOf(gitDir, commit, byPath, specs)) {
      const key = `${rc.site.file.path}\0${rc.site.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rc);
    }
  }
  return out;
}
