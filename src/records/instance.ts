import { z } from "zod";
import { Language, RepoName, Sha } from "./common.ts";
import { Quality, StatementReport, StatementSource } from "./statement.ts";
import { SyntheticInfo } from "./synthetic.ts";

export const TestStatus = z.enum(["PASSED", "FAILED", "SKIPPED", "ERROR"]);
export type TestStatus = z.infer<typeof TestStatus>;

/** One test as a parser saw it. Names are runner-native (pytest node ids, "Suite > test", Go "TestX/sub"). */
export const TestResult = z.object({ name: z.string(), status: TestStatus });
export type TestResult = z.infer<typeof TestResult>;

/**
 * The states a repository is run in: *base* = the base commit as it is (no test patch), *buggy* = base + test
 * patch, *resolved* = base + test patch + gold patch (DESIGN §3).
 */
export const StateName = z.enum(["base", "buggy", "resolved"]);
export type StateName = z.infer<typeof StateName>;

/** One run of evaluation.sh (or, for the base state, of the test listing) in a fresh container. */
export const StateRun = z.object({
  state: StateName,
  exit_code: z.number().int(),
  timed_out: z.boolean().default(false),
  duration_ms: z.number().nonnegative(),
  tests: z.array(TestResult),
  /** false when the output had no markers or the parser found nothing. */
  parsed: z.boolean(),
  log_tail: z.string().default(""),
});
export type StateRun = z.infer<typeof StateRun>;

/** A test name with its statuses in the three states ("NONE": the run did not name it; absent: not run). */
export const TestTrace = z.object({
  test: z.string(),
  base: z.string().optional(),
  buggy: z.string(),
  resolved: z.string(),
  pattern: z.string(),
});
export type TestTrace = z.infer<typeof TestTrace>;

/**
 * Per-test categories as Multi-SWE-bench defines them, keyed on the transition from the buggy state (test
 * patch only) to the resolved state (test patch and fix), each over every run of the state: p2p passed →
 * passes, f2p failed or errored → passes, s2p skipped → passes, n2p not there (not named by the runner) →
 * passes. `from_base` holds the n2p tests that were there at the base commit and pass after, and whose code
 * the test patch does not touch: the test patch alone broke their build (a test file that does not compile
 * without the fix takes its whole package with it), so they are PASS_TO_PASS, not FAIL_TO_PASS.
 * `anomalies` are the patterns Multi-SWE-bench rejects: p2f (passes with the test patch, fails with the fix)
 * and a test that passed at the base commit, is gone or skipped with the test patch and fails with the fix.
 */
export const TestCategories = z.object({
  p2p: z.array(z.string()),
  f2p: z.array(z.string()),
  s2p: z.array(z.string()),
  n2p: z.array(z.string()),
  from_base: z.array(z.string()),
  anomalies: z.array(TestTrace),
});
export type TestCategories = z.infer<typeof TestCategories>;

/**
 * How the base state was learnt and what it cost: not needed (every test that passes after ran with the
 * test patch alone: 0 runs), listed (the runner listed the tests at the base commit without running them:
 * 1 run), or runs (the base state ran N times, as the other states).
 */
export const BaseStateInfo = z.object({
  mode: z.enum(["not_needed", "listed", "runs"]),
  /** Container runs the base state cost. */
  runs: z.number().int().nonnegative(),
  detail: z.string().default(""),
});
export type BaseStateInfo = z.infer<typeof BaseStateInfo>;

export const Validation = z.object({
  runs_per_state: z.number().int().positive(),
  runs: z.array(StateRun),
  fail_to_pass: z.array(z.string()),
  pass_to_pass: z.array(z.string()),
  flaky: z.array(z.string()),
  image_rebuilt: z.boolean(),
  /** Per-test categories (Multi-SWE-bench's); absent in records made before the base state existed. */
  categories: TestCategories.optional(),
  base_state: BaseStateInfo.optional(),
  /**
   * Tests that passed in every validation run but failed in the load probe's run under a CPU quota: out of
   * FAIL_TO_PASS / PASS_TO_PASS like other flaky tests, and their failure alone does not unresolve an
   * evaluation (src/harness/grade.ts).
   */
  load_flaky: z.array(z.string()).optional(),
});
export type Validation = z.infer<typeof Validation>;

/** A single hacking/leakage check's verdict. */
export const CheckVerdict = z.object({
  check: z.string(),
  kind: z.enum(["static", "dynamic", "judge", "leak"]),
  passed: z.boolean(),
  reasons: z.array(z.string()).default([]),
});
export type CheckVerdict = z.infer<typeof CheckVerdict>;

export const Cost = z.object({
  wall_ms: z.number().nonnegative().default(0),
  build_ms: z.number().nonnegative().default(0),
  validate_ms: z.number().nonnegative().default(0),
  prompt_tokens: z.number().int().nonnegative().default(0),
  completion_tokens: z.number().int().nonnegative().default(0),
  usd: z.number().nonnegative().default(0),
});
export type Cost = z.infer<typeof Cost>;

/** A verified task: SWE-bench fields, then ours. */
export const Instance = z.object({
  instance_id: z.string(),
  repo: RepoName,
  base_commit: Sha,
  patch: z.string(),
  test_patch: z.string(),
  problem_statement: z.string(),
  hints_text: z.string(),
  created_at: z.string(),
  version: z.string(),
  FAIL_TO_PASS: z.array(z.string()),
  PASS_TO_PASS: z.array(z.string()),
  environment_setup_commit: Sha,
  language: Language,
  /** The local tag the image was built under. */
  image: z.string(),
  /**
   * Where others can pull the image from: set once it was pushed to a registry (`--registry`), absent while
   * it exists only locally (the dataset's `image_name` column then repeats `image`).
   */
  image_name: z.string().optional(),
  dockerfile: z.string(),
  evaluation_script: z.string(),
  /** Parser the harness uses to read evaluation.sh output. */
  parser: z.string(),
  environment_key: z.string(),
  validation: Validation,
  checks: z.array(CheckVerdict),
  builder: z.object({ kind: z.enum(["recipe", "model"]), name: z.string(), attempts: z.number().int() }),
  cost: Cost,
  /**
   * Set when the PR had no tests and the builder wrote them (Scale-SWE's unit-test creator): the generated
   * tests as a patch. `test_patch` then holds the same patch, so harnesses apply it unchanged; this field
   * marks that those tests are the builder's, not the PR's.
   */
  generated_test_patch: z.string().optional(),
  /**
   * Where `problem_statement` came from: the linked issues ("issue"), the PR's own title and body ("pr"),
   * which may describe the fix rather than the problem, or written by us ("written": by the model through
   * the statement writer, or from validation's failing-test messages, flagged `templated`). Absent in
   * records made before it existed. Synthetic tasks (src/synth/) say "template" or "model".
   */
  problem_statement_source: StatementSource.optional(),
  /** The mined statement (issue or PR text), kept when `problem_statement` was written. */
  original_problem_statement: z.string().optional(),
  /** What the statement checks found (src/statement/). */
  statement: StatementReport.optional(),
  /** The PR quality filter's verdicts and score (src/mine/quality.ts). */
  quality: Quality.optional(),
  /**
   * The script that lists the tests the evaluation runs without running them (where the runner can:
   * `go test -list`, `pytest --collect-only`, `cargo test -- --list`); the base state is learnt from it.
   */
  list_script: z.string().optional(),
  /** Where the task came from: a merged PR, or a bug injected into a built environment (src/synth/). Absent: a PR. */
  source: z.enum(["pr", "synthetic"]).optional(),
  /** Set on synthetic instances: how the bug was made and how big it is. */
  synthetic: SyntheticInfo.optional(),
});
export type Instance = z.infer<typeof Instance>;
