/**
 * Bad input to the verbs over many repositories (issue 14): `universe` (bad budgets, search qualifiers and
 * coordinator options, missing or useless repository lists, broken or busy run folders) and `merge`
 * (missing, broken or unwritable folders). None starts a container.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { type Case, type Ctx, snapshot } from "./harness.ts";

const repos = (c: Ctx) => join(c.dir, "repos.txt");
const universe = (c: Ctx, ...more: string[]) => [
  "universe",
  "--repos",
  repos(c),
  "--run-dir",
  join(c.dir, "new-run"),
  "--no-progress",
  ...more,
];
const merge = (c: Ctx, ...more: string[]) => ["merge", c.run, "--out", join(c.dir, "out"), ...more];
const nothingCreated = (c: Ctx) => {
  for (const d of ["new-run", "out"]) expect(existsSync(join(c.dir, d)), d).toBe(false);
};
const garbage = (file: string) =>
  writeFileSync(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** [flag, value, what the message says] for `universe`. */
const BAD_VALUES: [string, string, RegExp][] = [
  ["--max-prs", "0", /expected a whole number from 1/],
  ["--max-prs", "abc", /expected a whole number/],
  ["--max-builds", "1.5", /expected a whole number/],
  ["--max-minutes", "0", /expected a number more than 0/],
  ["--max-minutes", "lots", /expected a number more than 0/],
  ["--search-stars", "many", /expected a number of stars/],
  ["--search-pushed-since", "yesterday-ish", /expected a date/],
  ["--search-max", "0", /expected a whole number from 1 to 100000/],
  ["--search-license", "mit license", /expected a license key/],
  ["--search-topic", "two words", /expected a GitHub topic/],
  ["--search-language", "", /expected a language name/],
  ["--mining", "0", /expected a whole number from 1 to 64/],
  ["--window", "-1", /expected a whole number/],
  ["--redis", "http://127.0.0.1:6379", /expected a redis: or rediss: URL/],
  ["--since", "notadate", /expected a date/],
  ["--api-url", "not a url", /expected a URL/],
  ["--runs", "0", /expected a whole number from 1/],
  ["--sandbox", "nonsense", /expected one of auto, docker, podman/],
];

const valueCases: Case[] = [
  ...BAD_VALUES.map(
    ([flag, value, what]): Case => ({
      kind: "option value",
      verb: "universe",
      name: `${flag} ${JSON.stringify(value)}`,
      argv: (c) => universe(c, flag, value),
      code: 2,
      message: new RegExp(`^swe-universe: ${flag}: "${reEscape(value)}": .*${what.source}`),
      check: nothingCreated,
    }),
  ),
  {
    kind: "option value",
    verb: "merge",
    name: '--out ""',
    argv: (c) => ["merge", c.run, "--out", ""],
    code: 2,
    message: /^swe-universe: --out: "": expected a non-empty value/,
  },
];

const usageCases: Case[] = [
  {
    kind: "usage",
    verb: "universe",
    name: "neither --repos nor a search",
    argv: (c) => ["universe", "--run-dir", join(c.dir, "new-run")],
    code: 2,
    message: /^swe-universe: nothing to run over: pass --repos FILE and\/or --search-\* options/,
    check: nothingCreated,
  },
  {
    kind: "usage",
    verb: "universe",
    name: "--only (a build option it cannot honour)",
    argv: (c) => universe(c, "--only", "a__b-1"),
    code: 2,
    message: /^swe-universe: --only is not an option of universe/,
    check: nothingCreated,
  },
  {
    kind: "usage",
    verb: "merge",
    name: "no --out",
    argv: (c) => ["merge", c.run],
    code: 2,
    message: /required option '--out <dir>' not specified/,
  },
  {
    kind: "usage",
    verb: "merge",
    name: "no run folders",
    argv: (c) => ["merge", "--out", join(c.dir, "out")],
    code: 2,
    message: /missing required argument 'run-dirs'/,
    check: nothingCreated,
  },
];

/** A live process holding the run folder's lock (as `holder` in cases-folders.ts). */
function holdLock(c: Ctx, dir: string): void {
  const p = spawn("sleep", ["60"], { stdio: "ignore" });
  c.undo.push(() => p.kill("SIGKILL"));
  const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
  const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  const lock = { pid: p.pid, host: hostname(), started, verb: "universe", since: "2026-01-01T00:00:00Z" };
  writeFileSync(join(dir, ".lock"), JSON.stringify(lock));
}

const inputCases: Case[] = [
  {
    kind: "repository",
    verb: "universe",
    name: "--repos names no file",
    argv: (c) => universe(c),
    code: 3,
    message: /^swe-universe: --repos: no such file: .*repos\.txt/,
    check: nothingCreated,
  },
  {
    kind: "repository",
    verb: "universe",
    name: "a list in which no line is usable (each named, exit 3)",
    setup: (c) => writeFileSync(repos(c), "what is this\n./missing-folder\n"),
    argv: (c) => universe(c),
    code: 3,
    lines: 3,
    message: /^swe-universe: no repository to run over: each of the 2 input\(s\) named above is unusable/,
    check: (c, r) => {
      expect(r.stderr).toMatch(/repos\.txt:1 .*: invalid:/);
      expect(r.stderr).toMatch(/repos\.txt:2 .*: not_found: no such folder/);
      expect(r.stdout).toMatch(/^0 repositories: 0 candidates/m);
      const f = JSON.parse(readFileSync(join(c.dir, "new-run", "funnel.json"), "utf8"));
      expect(f.inputs.by_kind).toEqual({ invalid: 1, not_found: 1 });
    },
  },
  {
    kind: "run folder",
    verb: "universe",
    name: "store.sqlite is garbage bytes",
    setup: (c) => {
      writeFileSync(repos(c), `${c.fx.repo}\n`);
      garbage(join(c.run, "store.sqlite"));
    },
    argv: (c) => ["universe", "--repos", repos(c), "--run-dir", c.run, "--no-progress"],
    code: 3,
    message: /^swe-universe: .*is not a store: the file is damaged or not SQLite/,
  },
  {
    kind: "run folder",
    verb: "universe",
    name: "--run-dir is a file",
    setup: (c) => {
      writeFileSync(repos(c), `${c.fx.repo}\n`);
      writeFileSync(join(c.dir, "file"), "x");
    },
    argv: (c) => ["universe", "--repos", repos(c), "--run-dir", join(c.dir, "file"), "--no-progress"],
    code: 3,
    message: /^swe-universe: .*file.*(not a folder|EEXIST|ENOTDIR|exists)/,
  },
  {
    kind: "run folder",
    verb: "universe",
    name: "held by a live process, --no-wait",
    setup: (c) => {
      writeFileSync(repos(c), `${c.fx.repo}\n`);
      holdLock(c, c.run);
    },
    argv: (c) => ["universe", "--repos", repos(c), "--run-dir", c.run, "--no-progress", "--no-wait"],
    code: 4,
    message: /^swe-universe: the run folder .* is in use by pid \d+ \(universe, since/,
    changes: true, // the holder's lock file is its own
  },
  {
    kind: "outside",
    verb: "universe",
    name: "--redis does not answer",
    setup: (c) => writeFileSync(repos(c), `${c.fx.repo}\n`),
    env: { SWEU_REDIS_WAIT: "1" },
    argv: (c) => universe(c, "--redis", "redis://127.0.0.1:1"),
    code: 4,
    message: /^swe-universe: Redis at redis:\/\/127\.0\.0\.1:1 does not answer/,
    check: nothingCreated,
  },
  {
    kind: "run folder",
    verb: "merge",
    name: "a folder with no store",
    argv: (c) => ["merge", c.run, c.dir, "--out", join(c.dir, "out")],
    code: 3,
    message: /^swe-universe: no run folder at .*case \(no store\.sqlite\)/,
    check: nothingCreated,
  },
  {
    kind: "run folder",
    verb: "merge",
    name: "a folder's store.sqlite is garbage bytes",
    setup: (c) => garbage(join(c.run, "store.sqlite")),
    argv: (c) => merge(c),
    code: 3,
    message: /^swe-universe: .*is not a store: the file is damaged or not SQLite/,
  },
  {
    kind: "run folder",
    verb: "merge",
    name: "--out's store.sqlite is garbage bytes",
    setup: (c) => {
      const out = join(c.dir, "out");
      mkdirSync(out);
      garbage(join(out, "store.sqlite"));
    },
    argv: (c) => merge(c),
    code: 3,
    message: /^swe-universe: .*out\/store\.sqlite is not a store/,
  },
  {
    kind: "run folder",
    verb: "merge",
    name: "--out is a file",
    setup: (c) => writeFileSync(join(c.dir, "out"), "x"),
    argv: (c) => merge(c),
    code: 3,
    message: /^swe-universe: .*out.*(not a folder|EEXIST|ENOTDIR|exists)/,
  },
  {
    kind: "run folder",
    verb: "merge",
    name: "a run folder into a new one (works; the source is only read)",
    argv: (c) => merge(c, "--json"),
    code: 0,
    lines: 0,
    message: /^$/,
    check: (c, r) => {
      const m = JSON.parse(r.stdout);
      expect(m.folders).toBe(1);
      expect(m.instances).toBe(1);
      const records = (d: string) => JSON.parse(snapshot(d)).records;
      expect(records(join(c.dir, "out")).instances).toEqual(records(c.run).instances);
      expect(records(join(c.dir, "out")).rejections).toEqual(records(c.run).rejections);
      expect(existsSync(join(c.dir, "out", "data"))).toBe(true);
    },
  },
];

export const universeCases: Case[] = [...valueCases, ...usageCases, ...inputCases];
