/** One folder per instance: the files a person (or an agent harness) needs, each in its own file. */
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Instance, StateRun } from "../records/index.ts";
import { replaceDirAtomic } from "./atomic.ts";

/** Files export writes into every instance folder; anything else there (a trajectory) belongs to others. */
export const INSTANCE_FILES = [
  "task.json",
  "problem_statement.md",
  "gold.patch",
  "test.patch",
  "evaluation.sh",
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

export function writeInstanceFolder(instancesDir: string, inst: Instance): string {
  const dir = join(instancesDir, inst.instance_id);
  replaceDirAtomic(dir, (tmp, previous) => {
    writeFileSync(join(tmp, "task.json"), `${JSON.stringify(inst, null, 2)}\n`);
    writeFileSync(join(tmp, "problem_statement.md"), ensureTrailingNewline(inst.problem_statement));
    writeFileSync(join(tmp, "gold.patch"), inst.patch);
    writeFileSync(join(tmp, "test.patch"), inst.test_patch);
    writeFileSync(join(tmp, "evaluation.sh"), inst.evaluation_script, { mode: 0o755 });
    writeFileSync(join(tmp, "Dockerfile"), ensureTrailingNewline(inst.dockerfile));
    const vdir = join(tmp, "validation");
    mkdirSync(vdir);
    const names = validationLogNames(inst.validation.runs);
    inst.validation.runs.forEach((r, i) => {
      writeFileSync(join(vdir, names[i]!), runHeader(r) + ensureTrailingNewline(r.log_tail));
    });
    if (previous) {
      for (const name of readdirSync(previous)) {
        if (isPreserved(name)) copyFileSync(join(previous, name), join(tmp, name));
      }
    }
  });
  return dir;
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
