/** Broken store files and run folders: a plain line, the right code, the folder as it was. */
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { TestRepo } from "../../helpers/repos.ts";
import { type Case, type Ctx, readOnly } from "./harness.ts";

const store = (c: Ctx) => join(c.run, "store.sqlite");

const garbage = (c: Ctx) => {
  writeFileSync(store(c), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
};
const truncated = (c: Ctx) => truncateSync(store(c), 2048);
const foreign = (c: Ctx) => {
  rmSync(store(c));
  const db = new Database(store(c));
  db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada')");
  db.close();
};
const folder = (c: Ctx) => {
  rmSync(store(c));
  mkdirSync(store(c));
};
const foreignIntact = (c: Ctx) => {
  const db = new Database(store(c), { readonly: true });
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
  db.close();
  expect(tables).toEqual([{ name: "users" }]);
};

/** Argv of each verb on the case's run folder. */
const ON_RUN: Record<string, (c: Ctx) => string[]> = {
  report: (c) => ["report", "--run-dir", c.run],
  build: (c) => ["build", "--run-dir", c.run],
  export: (c) => ["export", "--run-dir", c.run],
  validate: (c) => ["validate", "--run-dir", c.run],
  trajectories: (c) => ["trajectories", "--run-dir", c.run, "--out", join(c.dir, "t.jsonl")],
  push: (c) => ["push", "--run-dir", c.run, "--registry", "127.0.0.1:1/sweu"],
  mine: (c) => ["mine", c.fx.repo, "--run-dir", c.run],
  run: (c) => ["run", c.fx.repo, "--run-dir", c.run, "--no-progress"],
  synth: (c) => ["synth", "--run-dir", c.run],
};

const STORE_FILES: [string, (c: Ctx) => void, string[], RegExp, ((c: Ctx) => void)?][] = [
  [
    "garbage bytes",
    garbage,
    ["report", "build", "export", "mine", "trajectories", "synth"],
    /is not a store: the file is damaged or not SQLite/,
  ],
  [
    "truncated",
    truncated,
    ["report", "validate", "export", "run"],
    /is not a store: the file is damaged or not SQLite/,
  ],
  [
    "another program's database",
    foreign,
    ["report", "export", "mine", "build"],
    /SQLite database of another program \(tables: users\)/,
    foreignIntact,
  ],
  [
    "a folder",
    folder,
    ["report", "build", "mine", "run", "push"],
    /store\.sqlite is a folder, not a store file/,
  ],
];

const storeCases: Case[] = STORE_FILES.flatMap(([what, setup, verbs, message, check]) =>
  verbs.map((verb) => ({
    kind: "store file" as const,
    verb,
    name: `store.sqlite is ${what}`,
    setup,
    argv: ON_RUN[verb]!,
    code: 3,
    message: new RegExp(`^swe-universe: .*${message.source}`),
    check,
  })),
);

/** A process that holds a lock: a real live pid, and its start time as the lock records it. */
function holder(c: Ctx, seconds: number): ChildProcess {
  const p = spawn("sleep", [String(seconds)], { stdio: "ignore" });
  c.undo.push(() => p.kill("SIGKILL"));
  c.stopHolder = () => p.kill("SIGKILL");
  const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
  const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  const lock = { pid: p.pid, host: hostname(), started, verb: "mine", since: "2026-01-01T00:00:00Z" };
  writeFileSync(join(c.run, ".lock"), JSON.stringify(lock));
  c.vars.holder = String(p.pid);
  return p;
}

const readOnlyRun = (c: Ctx) => readOnly(c, c.run);

const folderCases: Case[] = [
  ...["build", "validate", "export", "push", "trajectories", "report", "synth"].map((verb) => ({
    kind: "run folder" as const,
    verb,
    name: "a folder with no store",
    setup: (c: Ctx) => mkdirSync(join(c.dir, "empty")),
    argv: (c: Ctx) => ON_RUN[verb]!({ ...c, run: join(c.dir, "empty") }),
    code: 3,
    message: /^swe-universe: no (run|store) at .*empty/,
    check: (c: Ctx) => expect(existsSync(join(c.dir, "empty", "store.sqlite"))).toBe(false),
  })),
  ...["build", "validate", "export", "mine", "synth"].map((verb) => ({
    kind: "run folder" as const,
    verb,
    name: "a read-only run folder",
    setup: readOnlyRun,
    argv: ON_RUN[verb]!,
    code: 3,
    message: /^swe-universe: .*(read-only|EROFS)/,
  })),
  {
    kind: "run folder",
    verb: "report",
    name: "a read-only run folder (report only reads: works)",
    setup: readOnlyRun,
    argv: ON_RUN.report!,
    code: 0,
    lines: 0,
    message: /^$/,
    check: (_c, r) => expect(r.stdout).toMatch(/instances/),
  },
  {
    kind: "run folder",
    verb: "report",
    name: "an empty store.sqlite",
    setup: (c) => writeFileSync(store(c), ""),
    argv: ON_RUN.report!,
    code: 3,
    message: /^swe-universe: .*store\.sqlite is empty: not a store yet/,
  },
  {
    kind: "run folder",
    verb: "run",
    name: "--run-dir under a read-only parent",
    setup: (c) => {
      mkdirSync(join(c.dir, "ro"));
      readOnly(c, join(c.dir, "ro"));
    },
    argv: (c) => ["run", c.fx.repo, "--run-dir", join(c.dir, "ro", "new"), "--no-progress"],
    code: 3,
    message: /^swe-universe: cannot create the run folder .*ro\/new: .*ro is read-only or not writable/,
  },
  {
    kind: "run folder",
    verb: "mine",
    name: "--run-dir is a file",
    setup: (c) => writeFileSync(join(c.dir, "file"), "x"),
    argv: (c) => ["mine", c.fx.repo, "--run-dir", join(c.dir, "file")],
    code: 3,
    message: /^swe-universe: .*file.*(not a folder|EEXIST|ENOTDIR|exists)/,
  },
  {
    kind: "run folder",
    verb: "mine",
    name: "the folder belongs to another repository",
    argv: (c) => ["mine", c.fx.other, "--run-dir", c.run],
    code: 3,
    message:
      /^swe-universe: the run folder .* already belongs to local\/sweu-py-.*, not local\/sweu-other-.*: give another --run-dir/,
  },
  {
    kind: "run folder",
    verb: "run",
    name: "the folder belongs to another repository",
    argv: (c) => ["run", c.fx.other, "--run-dir", c.run, "--no-progress"],
    code: 3,
    message: /already belongs to local\/sweu-py-/,
  },
  {
    kind: "run folder",
    verb: "mine",
    name: "another repository with the same local name (no origin)",
    setup: (c) => {
      // A checkout at another place with the same folder name, and another history.
      const twin = join(c.dir, "twin", c.fx.repo.split("/").pop()!);
      mkdirSync(twin, { recursive: true });
      const r = new TestRepo("sweu-twin-");
      r.commit("Other history", { "b.py": "y = 2\n" });
      r.squashPr(5, "Other fix", "", { "b.py": "y = 3\n", "tests/test_b.py": "def test_b(): pass\n" });
      rmSync(twin, { recursive: true });
      cpSync(r.dir, twin, { recursive: true }); // .git included: a real checkout of another repository
      c.vars.twin = twin;
    },
    argv: (c) => ["mine", c.vars.twin!, "--run-dir", c.run],
    code: 3,
    message:
      /is not the repository the run folder .* holds as local\/sweu-py-.*: commit [0-9a-f]{12} is missing/,
  },
  {
    kind: "run folder",
    verb: "build",
    name: "--repo is another repository",
    argv: (c) => ["build", "--run-dir", c.run, "--repo", c.fx.other],
    code: 3,
    message: /is not the repository the run folder .* holds as local\/sweu-py-/,
  },
  {
    kind: "run folder",
    verb: "synth",
    name: "--repo is another repository",
    argv: (c) => ["synth", "--run-dir", c.run, "--repo", c.fx.other],
    code: 3,
    message: /is not the repository the run folder .* holds as local\/sweu-py-/,
  },
  {
    kind: "run folder",
    verb: "synth",
    name: "--repo is not a git repository",
    setup: (c) => mkdirSync(join(c.dir, "plain")),
    argv: (c) => ["synth", "--run-dir", c.run, "--repo", join(c.dir, "plain")],
    code: 3,
    message: /^swe-universe: --repo .*plain is not a git repository/,
  },
  {
    kind: "run folder",
    verb: "synth",
    name: "a run with no validated environment: says so, nothing to do",
    argv: ON_RUN.synth!,
    code: 0,
    lines: 1,
    message: /^swe-universe: no validated environment in .*: nothing to inject bugs into/,
    changes: true, // synth.md and the export are written
    check: (c, r) => {
      expect(r.stdout).toMatch(/synthetic/i);
      expect(existsSync(join(c.run, "synth.md"))).toBe(true);
    },
  },
  {
    kind: "run folder",
    verb: "synth",
    name: "held by a live process, --no-wait",
    setup: (c) => void holder(c, 60),
    argv: (c) => ["synth", "--run-dir", c.run, "--no-wait"],
    code: 4,
    message: /^swe-universe: the run folder .* is in use by pid \d+ \(mine, since/,
    changes: true,
  },
  {
    kind: "run folder",
    verb: "mine",
    name: "held by a live process, --no-wait",
    setup: (c) => void holder(c, 60),
    argv: (c) => ["mine", c.fx.repo, "--run-dir", c.run, "--no-wait"],
    code: 4,
    message: /^swe-universe: the run folder .* is in use by pid \d+ \(mine, since/,
    check: (c, r) => expect(r.stderr).toContain(`pid ${c.vars.holder}`),
    changes: true, // the holder's lock file is its own
  },
  {
    kind: "run folder",
    verb: "export",
    name: "held by a live process that ends: waits, naming it, then goes on",
    setup: (c) => void holder(c, 60),
    // The holder dies once the second process has said whom it waits for: its lock is then taken over.
    onStderr: (c, text) => {
      if (/waiting for pid/.test(text)) c.stopHolder?.();
    },
    argv: (c) => ["export", "--run-dir", c.run, "--out", join(c.dir, "out")],
    code: 0,
    lines: 1,
    message: /^swe-universe: waiting for pid \d+ \(mine, since .*\) to finish with/,
    changes: true,
    check: (c, r) => {
      expect(r.stderr).toContain(`pid ${c.vars.holder}`);
      expect(existsSync(join(c.run, ".lock"))).toBe(false);
      expect(existsSync(join(c.dir, "out", "dataset.jsonl"))).toBe(true);
    },
  },
  {
    kind: "run folder",
    verb: "report",
    name: "a stale lock of a dead process (report does not lock)",
    setup: (c) =>
      writeFileSync(
        join(c.run, ".lock"),
        JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), verb: "run", since: "x" }),
      ),
    argv: ON_RUN.report!,
    code: 0,
    lines: 0,
    message: /^$/,
  },
  {
    kind: "run folder",
    verb: "mine",
    name: "a stale lock of a dead process is taken over",
    setup: (c) =>
      writeFileSync(
        join(c.run, ".lock"),
        JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), verb: "run", since: "x" }),
      ),
    argv: ON_RUN.mine!,
    code: 0,
    lines: 0,
    message: /^$/,
    changes: true,
    check: (c) => expect(existsSync(join(c.run, ".lock"))).toBe(false),
  },
  {
    kind: "run folder",
    verb: "validate",
    name: "--runs 0 on a validated instance (never replaced by a rejection)",
    argv: (c) => ["validate", "--run-dir", c.run, "--runs", "0"],
    code: 2,
    message: /^swe-universe: --runs: "0": expected a whole number from 1/,
  },
];

export const folderStoreCases: Case[] = [...storeCases, ...folderCases];
