/** Bad option values and bad command lines, for every verb: exit 2, one line, nothing created or changed. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { Case, Ctx } from "./harness.ts";

/** The arguments each verb needs besides the option under test; the folders they name must stay uncreated. */
const BASE: Record<string, (c: Ctx) => string[]> = {
  mine: (c) => [c.fx.repo, "--run-dir", join(c.dir, "new-run")],
  run: (c) => [c.fx.repo, "--run-dir", join(c.dir, "new-run"), "--no-progress"],
  build: (c) => ["--run-dir", c.run],
  validate: (c) => ["--run-dir", c.run],
  export: (c) => ["--run-dir", c.run, "--out", join(c.dir, "out")],
  report: (c) => ["--run-dir", c.run],
  push: (c) => ["--run-dir", c.run, "--registry", "127.0.0.1:1/sweu"],
  trajectories: (c) => ["--run-dir", c.run, "--out", join(c.dir, "out", "t.jsonl")],
  evaluate: (c) => ["--dataset", c.fx.dataset, "--predictions", "gold", "--out", join(c.dir, "out")],
  worker: (c) => ["--redis", "redis://127.0.0.1:1", "--work-dir", join(c.dir, "wk")],
  "check-verifier": (c) => [join(c.run, "nowhere")],
  synth: (c) => ["--run-dir", c.run],
};

const nothingCreated = (c: Ctx) => {
  for (const d of ["new-run", "out", "wk"]) expect(existsSync(join(c.dir, d)), d).toBe(false);
};

/** [verb, flag, value, what the message says] */
const BAD_VALUES: [string, string, string, RegExp][] = [
  ["mine", "--limit", "0", /expected a whole number/],
  ["mine", "--limit", "-1", /expected a whole number/],
  ["mine", "--limit", "abc", /expected a whole number/],
  ["mine", "--since", "notadate", /expected a date/],
  ["mine", "--max-files", "0", /expected a whole number/],
  ["mine", "--max-lines", "1e3", /expected a whole number/],
  ["mine", "--repo-name", "bad name", /expected owner\/name/],
  ["mine", "--repo-name", "../..", /expected owner\/name/],
  ["mine", "--api-url", "not a url", /expected a URL/],
  ["mine", "--base-url", "ftp://x", /expected a http: or https: URL/],
  ["run", "--runs", "0", /expected a whole number from 1/],
  ["run", "--runs", "abc", /expected a whole number/],
  ["run", "--since", "notadate", /expected a date/],
  ["run", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["run", "--limit", "0", /expected a whole number/],
  ["run", "--workers", "1.5", /expected a whole number/],
  ["run", "--redis", "http://127.0.0.1:6379", /expected a redis: or rediss: URL/],
  ["run", "--repo-name", "bad name", /expected owner\/name/],
  ["run", "--queue", "a:b", /expected a queue name/],
  ["run", "--base-url", "ftp://x", /expected a http: or https: URL/],
  ["run", "--api-url", "not a url", /expected a URL/],
  ["run", "--min-free-disk", "lots", /not a size/],
  ["run", "--builder", "magic", /expected one of recipe, agent, cascade/],
  ["build", "--runs", "0", /expected a whole number from 1/],
  ["build", "--runs", "abc", /expected a whole number/],
  ["build", "--workers", "0", /expected a whole number/],
  ["build", "--max-attempts", "-3", /expected a whole number/],
  ["build", "--test-timeout", "xyz", /expected a duration in seconds/],
  ["build", "--build-timeout", "0", /expected a duration in seconds/],
  ["build", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["build", "--builder", "magic", /expected one of recipe, agent, cascade/],
  ["build", "--load-probe-cpus", "-1", /expected a number from 0/],
  ["build", "--min-free-disk", "1X", /not a size/],
  ["build", "--only", ",", /expected a comma-separated list/],
  ["validate", "--runs", "0", /expected a whole number from 1/],
  ["validate", "--runs", "abc", /expected a whole number/],
  ["validate", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["validate", "--load-probe-cpus", "lots", /expected a number from 0/],
  ["validate", "--only", " , ", /expected a comma-separated list/],
  ["evaluate", "--workers", "0", /expected a whole number/],
  ["evaluate", "--timeout", "abc", /expected a duration in seconds/],
  ["evaluate", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["evaluate", "--run-id", "../x", /letters, digits/],
  ["evaluate", "--run-id", "..", /not only dots/],
  ["evaluate", "--instance-ids", ",", /expected a comma-separated list/],
  ["push", "--attempts", "0", /expected a whole number/],
  ["push", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["worker", "--concurrency", "0", /expected a whole number/],
  ["worker", "--lock-timeout", "abc", /expected a duration in seconds/],
  ["worker", "--rate", "5", /expected MAX\/SECONDS/],
  ["worker", "--redis", "localhost:6379", /expected a redis: or rediss: URL/],
  ["worker", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["worker", "--min-free-disk", "-1G", /not a size/],
  ["check-verifier", "--timeout", "abc", /expected a duration in seconds/],
  ["check-verifier", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["check-verifier", "--timeout", "0", /expected a duration in seconds/],
  ["check-verifier", "--pids", "8", /expected a whole number from 16/],
  ["check-verifier", "--pids", "lots", /expected a whole number from 16/],
  ["check-verifier", "--memory", "4x", /not a size/],
  ["check-verifier", "--memory", "1k", /expected a memory size of at least 6M/],
  ["check-verifier", "--script", "", /expected a non-empty value/],
  ["export", "--out", "", /expected a non-empty value/],
  ["report", "--run-dir", "", /expected a non-empty value/],
  ["synth", "--per-strategy", "0", /expected a whole number from 1 to 1000/],
  ["synth", "--per-strategy", "abc", /expected a whole number/],
  ["synth", "--max-environments", "0", /expected a whole number/],
  ["synth", "--strategies", "remove-body,nope", /unknown strategy nope: expected some of remove-body, /],
  ["synth", "--strategies", ",", /expected a comma-separated list/],
  ["synth", "--runs", "0", /expected a whole number from 1/],
  ["synth", "--test-timeout", "abc", /expected a duration in seconds/],
  ["synth", "--load-probe-cpus", "-1", /expected a number from 0/],
  ["synth", "--sandbox", "nonsense", /expected one of auto, docker, podman/],
  ["synth", "--seed", "", /expected a non-empty value/],
  ["synth", "--only", ",", /expected a comma-separated list/],
  ["run", "--synth-strategies", "bogus", /unknown strategy bogus/],
  ["run", "--synth-per-strategy", "0", /expected a whole number/],
  ["run", "--synth-max-environments", "x", /expected a whole number/],
];

const valueCases: Case[] = BAD_VALUES.map(([verb, flag, value, what]) => ({
  kind: "option value",
  verb,
  name: `${flag} ${JSON.stringify(value)}`,
  argv: (c) => [verb, ...BASE[verb]!(c), flag, value],
  code: 2,
  message: new RegExp(
    `^swe-universe: ${flag}: "${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}": .*${what.source}`,
  ),
  check: nothingCreated,
}));

/** Command lines commander itself refuses. */
const USAGE: [string, string, (c: Ctx) => string[], RegExp][] = [
  ["(none)", "an unknown verb", () => ["frobnicate"], /unknown command 'frobnicate'/],
  ["mine", "no repository", () => ["mine"], /missing required argument 'repo'/],
  ["build", "no --run-dir", () => ["build"], /required option '--run-dir <dir>' not specified/],
  ["synth", "no --run-dir", () => ["synth"], /required option '--run-dir <dir>' not specified/],
  ["push", "no --registry", (c) => ["push", "--run-dir", c.run], /required option '--registry/],
  ["trajectories", "no --out", (c) => ["trajectories", "--run-dir", c.run], /required option '--out/],
  [
    "evaluate",
    "no --predictions",
    (c) => ["evaluate", "--dataset", c.fx.dataset],
    /required option '--predictions/,
  ],
  [
    "report",
    "an unknown option",
    (c) => ["report", "--run-dir", c.run, "--bogus"],
    /unknown option '--bogus'/,
  ],
  [
    "validate",
    "--runs without a value",
    (c) => ["validate", "--run-dir", c.run, "--runs"],
    /argument missing/,
  ],
  ["run", "two repositories", (c) => ["run", c.fx.repo, c.fx.other], /too many arguments/],
  ["mine", "--github with a path", (c) => ["mine", c.fx.repo, "--github"], /--github expects owner\/name/],
  [
    "run",
    "--github with a repository that has no origin",
    (c) => ["run", c.fx.repo, "--github", "--run-dir", join(c.dir, "new-run"), "--no-progress"],
    /--github expects owner\/name/,
  ],
];

const usageCases: Case[] = USAGE.map(([verb, name, argv, what]) => ({
  kind: "usage",
  verb,
  name,
  argv,
  code: 2,
  message: new RegExp(`^swe-universe: .*${what.source}`),
  check: nothingCreated,
}));

export const optionCases: Case[] = [...valueCases, ...usageCases];
