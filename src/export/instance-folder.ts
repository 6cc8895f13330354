/** One folder per instance: the files a person (or an agent harness) needs, each in its own file. */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { renderEvalScript } from "../harness/eval-script.ts";
import type { Instance, StateRun } from "../records/index.ts";
import { inside, safeFileName } from "../util/safe-name.ts";
import { replaceDirAtomic } from "./atomic.ts";

/** Files export writes into every instance folder; anything else there (a trajectory) belongs to others. */
export const INSTANCE_FILES = [
  "task.json",
  "problem_statement.md",
  "gold.patch",
  "test.patch",
  "evaluation.sh",
  "eval_script.sh",
  "Dockerfile",
  "validation",
] as const;

/** Files written by earlier stages into the instance folder that export must carry over untouched. */
function isPreserved(name: string): boolean {
  return /^trajectory.*\.jsonl$/.test(name);
}

/** `buggy-1.log`, `buggy-2.log`, `resolved-1.log` … numbered per state in run order. */
export function validationLogNames(runs: readonly StateRun[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((r) => {
    const n = (seen.get(r.state) ?? 0) + 1;
    seen.set(r.state, n);
    return `${r.state}-${n}.log`;
  });
}

function runHeader(r: StateRun): string {
  return (
    `# state=${r.state} exit_code=${r.exit_code} timed_out=${r.timed_out} ` +
    `duration_ms=${Math.round(r.duration_ms)} parsed=${r.parsed} tests=${r.tests.length}\n`
  );
}

function ensureTrailingNewline(s: string): string {
  return s === "" || s.endsWith("\n") ? s : `${s}\n`;
}

/** The files of an instance's folder, by path relative to it, and their modes. */
function folderFiles(inst: Instance): { path: string; data: string; mode?: number }[] {
  const names = validationLogNames(inst.validation.runs);
  return [
    { path: "task.json", data: `${JSON.stringify(inst, null, 2)}\n` },
    { path: "problem_statement.md", data: ensureTrailingNewline(inst.problem_statement) },
    { path: "gold.patch", data: inst.patch },
    { path: "test.patch", data: inst.test_patch },
    { path: "evaluation.sh", data: inst.evaluation_script, mode: 0o755 },
    { path: "eval_script.sh", data: renderEvalScript(inst), mode: 0o755 },
    { path: "Dockerfile", data: ensureTrailingNewline(inst.dockerfile) },
    ...inst.validation.runs.map((r, i) => ({
      path: join("validation", names[i]!),
      data: runHeader(r) + ensureTrailingNewline(r.log_tail),
    })),
  ];
}

/**
 * Write (or rewrite) an instance's folder. A folder that already holds exactly these files is left as it
 * is: re-exporting a large run reads what is there instead of rewriting every folder.
 */
export function writeInstanceFolder(instancesDir: string, inst: Instance): string {
  // An id from a store (a merged one can come from anywhere) is one safe path segment under instances/.
  const dir = inside(instancesDir, safeFileName(inst.instance_id));
  const files = folderFiles(inst);
  if (files.every((f) => same(join(dir, f.path), f.data))) return dir;
  replaceDirAtomic(dir, (tmp, previous) => {
    mkdirSync(join(tmp, "validation"));
    for (const f of files)
      writeFileSync(join(tmp, f.path), f.data, f.mode === undefined ? undefined : { mode: f.mode });
    if (previous) {
      for (const name of readdirSync(previous)) {
        if (isPreserved(name)) copyFileSync(join(previous, name), join(tmp, name));
      }
    }
  });
  return dir;
}

function same(path: string, data: string): boolean {
  try {
    return readFileSync(path, "utf8") === data;
  } catch {
    return false;
  }
}

/**
 * An instance folder whose id is no longer an instance (re-rejected on a later run): remove what export
 * wrote there, keep anything else (a trajectory is worth keeping), and drop the folder if it ends empty.
 * Returns true when the folder was one of ours.
 */
export function retireInstanceFolder(dir: string): boolean {
  if (!existsSync(join(dir, "task.json"))) return false;
  for (const f of INSTANCE_FILES) rmSync(join(dir, f), { recursive: true, force: true });
  if (readdirSync(dir).length === 0) rmdirSync(dir);
  return true;
}
