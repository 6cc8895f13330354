/**
 * The bad-input corpus's machinery: the real CLI as a child process, real git repositories and a real
 * run folder made once (mined by the CLI itself, plus an instance and a rejection written through the
 * store), a fresh folder per case inside a "jail" that must hold nothing else afterwards, and a snapshot
 * of what the run folder records, compared before and after each case.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { instanceToRow } from "../../../src/export/dataset.ts";
import type { Instance } from "../../../src/records/index.ts";
import { SqliteStore } from "../../../src/store/sqlite.ts";
import { makeInstance, makeRejection } from "../../export/fixtures.ts";
import { pythonProject, TestRepo } from "../../helpers/repos.ts";

export const MAIN = resolve(import.meta.dirname, "../../../src/cli/main.ts");

export type Kind =
  | "option value"
  | "usage"
  | "store file"
  | "run folder"
  | "repository"
  | "dataset"
  | "predictions"
  | "verifier"
  | "outside";

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Fixtures {
  /** A real repository (pythonProject: one merged PR), never changed by a case. */
  repo: string;
  /** Its name as the run records it (local/<dir>). */
  repoName: string;
  /** Another repository (another name). */
  other: string;
  /** A run folder of `repo`: mined by the CLI, plus one instance and one rejection. */
  template: string;
  instance: Instance;
  /** A small dataset.jsonl holding `instance`. */
  dataset: string;
}

export interface Ctx {
  fx: Fixtures;
  /** Must hold only `dir` after the case: nothing is written outside the case's folder. */
  jail: string;
  /** The case's folder and working directory. */
  dir: string;
  /** A copy of the template run folder, inside `dir`. */
  run: string;
  /** Set by a case's setup for its argv and checks. */
  vars: Record<string, string>;
  /** Undone after the case (mounts, helper processes). */
  undo: (() => void)[];
  /** Ends the process holding the run folder's lock, when the case started one. */
  stopHolder?: () => void;
}

export interface Case {
  kind: Kind;
  verb: string;
  name: string;
  argv: (c: Ctx) => string[];
  setup?: (c: Ctx) => void | Promise<void>;
  env?: Record<string, string>;
  code: number;
  /** The one line the case must print last on stderr. */
  message: RegExp;
  /** Lines stderr may hold (default: exactly one when the code is 2, 3 or 4). */
  lines?: number;
  /** The run folder may change (the case is one that succeeds on purpose). */
  changes?: boolean;
  check?: (c: Ctx, r: Result) => void | Promise<void>;
  /** Called with stderr so far whenever the CLI writes to it (to act while it runs). */
  onStderr?: (c: Ctx, text: string) => void;
}

export function cli(
  args: string[],
  o: { cwd: string; env?: Record<string, string>; onStderr?: (text: string) => void },
): Promise<Result> {
  const t0 = Date.now();
  return new Promise((ok) => {
    const p = spawn(process.execPath, [MAIN, ...args], {
      cwd: o.cwd,
      env: {
        ...process.env,
        SWEU_LOG: "warn",
        SWEU_MODEL: "",
        SWEU_MODEL_BASE_URL: "",
        // The same compile cache bin/swe-universe uses: hundreds of starts of one module graph.
        NODE_COMPILE_CACHE: join(tmpdir(), "sweu-test-node-compile-cache"),
        ...o.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => {
      stderr += d;
      o.onStderr?.(stderr);
    });
    p.on("close", (code) => ok({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

/** What a run folder records: ids and outcomes, and its files (the store's own -wal/-shm aside). */
export function snapshot(runDir: string): string {
  const path = join(runDir, "store.sqlite");
  const files = existsSync(runDir)
    ? readdirSync(runDir, { recursive: true })
        .map(String)
        .filter((f) => !/store\.sqlite-(wal|shm)$/.test(f))
        .sort()
    : [];
  let records: unknown = "no store";
  try {
    const s = new SqliteStore(path, { readonly: true });
    try {
      records = {
        candidates: s.listCandidates().map((c) => c.id),
        tasks: s.listTasks().map((t) => t.instance_id),
        instances: s.listInstances().map((i) => `${i.instance_id} ${i.validation.runs_per_state}`),
        rejections: s.listRejections().map((r) => `${r.id} ${r.stage} ${r.reason}`),
        meta: s.repos(),
      };
    } finally {
      s.close();
    }
  } catch (e) {
    records = `unreadable: ${(e as Error).message}`;
  }
  return JSON.stringify({ files, records });
}

export function newCtx(fx: Fixtures): Ctx {
  const jail = mkdtempSync(join(tmpdir(), "sweu-corpus-"));
  const dir = join(jail, "case");
  mkdirSync(dir);
  const run = join(dir, "run");
  cpSync(fx.template, run, { recursive: true });
  return { fx, jail, dir, run, vars: {}, undo: [] };
}

/** Bind-mount `dir` onto itself read-only (root, as the container engine needs); undone after the case. */
export function readOnly(c: Ctx, dir: string): void {
  execFileSync("mount", ["--bind", dir, dir]);
  execFileSync("mount", ["-o", "remount,ro,bind", dir]);
  c.undo.push(() => execFileSync("umount", [dir]));
}

export function write(c: Ctx, name: string, content: string | Buffer): string {
  const p = join(c.dir, name);
  mkdirSync(join(p, ".."), { recursive: true });
  writeFileSync(p, content);
  return p;
}

/** A dataset row as the dataset file holds it. */
export const row = (i: Instance) => JSON.stringify(instanceToRow(i));

export async function makeFixtures(): Promise<Fixtures> {
  const repo = pythonProject();
  const other = new TestRepo("sweu-other-");
  other.commit("Initial", { "a.py": "x = 1\n" });
  const template = mkdtempSync(join(tmpdir(), "sweu-corpus-template-"));
  const mined = await cli(["mine", repo.dir, "--run-dir", template, "--json"], { cwd: template });
  if (mined.code !== 0) throw new Error(`mining the template failed: ${mined.stderr}`);
  const repoName = JSON.parse(mined.stdout).repo as string;
  const s = new SqliteStore(join(template, "store.sqlite"));
  const task = s.listTasks()[0];
  if (!task) throw new Error("the template has no task");
  const instance = makeInstance({ instance_id: task.instance_id, repo: repoName });
  s.putInstance(instance);
  s.putRejection(makeRejection(99, "validate", "buggy_passes", repoName));
  s.close();
  const dataset = join(template, "..", `${template.split("/").pop()}-dataset.jsonl`);
  writeFileSync(dataset, `${row(instance)}\n`);
  return { repo: repo.dir, repoName, other: other.dir, template, instance, dataset };
}

/** A history of `n` squash-merged PRs, written by git fast-import (mining it keeps git busy for seconds). */
export function manyPrs(n: number): string {
  const dir = mkdtempSync(join(tmpdir(), "sweu-many-prs-"));
  execFileSync("git", ["init", "-q", "-b", "main", dir]);
  let s = "";
  for (let i = 0; i < n; i++) {
    const msg = `Fix ${i} (#${i + 1})\n`;
    const body = `x = ${i}\n`;
    const test = `def test_${i}(): assert True\n`;
    s += `commit refs/heads/main\ncommitter D <d@e.com> ${1_700_000_000 + i * 60} +0000\ndata ${msg.length}\n${msg}`;
    s += `M 100644 inline src/m${i % 40}.py\ndata ${body.length}\n${body}\n`;
    s += `M 100644 inline tests/test_m${i % 40}.py\ndata ${test.length}\n${test}\n`;
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, input: s });
  execFileSync("git", ["reset", "-q", "--hard", "main"], { cwd: dir });
  return dir;
}
