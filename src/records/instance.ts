import { z } from "zod";
import { Language, RepoName, Sha } from "./common.ts";
import { SyntheticInfo } from "./synthetic.ts";
import { ProblemStatementSource } from "./task.ts";

export const TestStatus = z.enum(["PASSED", "FAILED", "SKIPPED", "ERROR"]);
export type TestStatus = z.infer<typeof TestStatus>;

/** One test as a parser saw it. Names are runner-native (pytest node ids, "Suite > test", Go "TestX/sub"). */
export const TestResult = z.object({ name: z.string(), status: TestStatus });
export type TestResult = z.infer<typeof TestResult>;

/** One run of evaluation.sh in a fresh container. */
export const StateRun = z.object({
  state: z.enum(["buggy", "resolved"]),
  exit_code: z.number().int(),
  timed_out: z.boolean().default(false),
  duration_ms: z.number().nonnegative(),
  tests: z.array(TestResult),
  /** false when the output had no markers or the parser found nothing. */
  parsed: z.boolean(),
  log_tail: z.string().default(""),
});
export type StateRun = z.infer<typeof StateRun>;

export const Validation = z.object({
  runs_per_state: z.number().int().positive(),
  runs: z.array(StateRun),
  fail_to_pass: z.array(z.string()),
  pass_to_pass: z.array(z.string()),
  flaky: z.array(z.string()),
  image_rebuilt: z.boolean(),
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
   * Where `problem_statement` came from: the linked issues ("issue"), or the PR's own title and body
   * ("pr"), which may describe the fix rather than the problem; for synthetic tasks a template over the
   * failing tests ("template") or the model ("model"). Absent in records made before it existed.
   */
  problem_statement_source: ProblemStatementSource.optional(),
  /** Where the task came from: a merged PR, or a bug injected into a built environment (src/synth/). Absent: a PR. */
  source: z.enum(["pr", "synthetic"]).optional(),
  /** Set on synthetic instances: how the bug was made and how big it is. */
  synthetic: SyntheticInfo.optional(),
});
export type Instance = z.infer<typeof Instance>;
