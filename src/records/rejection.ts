import { z } from "zod";
import { Stage } from "./common.ts";

/** Stable reason codes. Append new ones; never rename (datasets and dashboards key on them). */
export const ReasonCode = z.enum([
  // mine / split
  "not_merged",
  "no_base_commit",
  "empty_diff",
  "no_code_change",
  "no_test_change",
  "binary_only",
  "too_large",
  "submodule_change",
  "undecodable_diff",
  "unsupported_language",
  "source_error",
  // build
  "repo_unavailable",
  "image_build_failed",
  "install_failed",
  "no_test_command",
  "toolchain_unavailable",
  "patch_apply_failed",
  "test_patch_apply_failed",
  "tests_timeout",
  "needs_network",
  "builder_exhausted",
  "sandbox_error",
  // validate
  "image_rebuild_failed",
  "buggy_passes",
  "resolved_fails",
  "inconsistent_exit",
  "no_fail_to_pass",
  "unparsed_output",
  "hacked_verifier",
  "comment_probe_failed",
  "no_tests_probe_failed",
  // any stage
  "internal_error",
  // building agent (LLM policy)
  "budget_exhausted",
  "model_error",
  // validate: the resolved state stops passing when the machine is loaded (time budgets in tests)
  "timing_dependent",
  // validate: evaluation.sh exits 0 while its own test output shows failures (its exit code is no reward)
  "exit_code_mismatch",
  // mine / split: a diff whose hunks do not match their headers, or with no file sections
  "malformed_diff",
  // validate: the image holds the fix outside the tracked files (build output, installed copies)
  "fix_leaked",
  // validate: the problem statement says nothing about the behaviour (a release title, a bare issue
  // number, a few words) and no statement could be written that does
  "vague_problem_statement",
  // split (PR quality filter): a release or branch-merge PR bundling unrelated changes
  "release_pr",
  // split (PR quality filter, LLM checks): the problem cannot be made out, the fix is not self-contained,
  // the tests do not check the described behaviour
  "unclear_problem",
  "not_self_contained",
  "tests_unrelated",
  // synth: a candidate bug that does not parse in its language (tree-sitter), before any container
  "mutation_unparsable",
  // synth: the tests cannot run with the bug (a compile, import or collection error; no test fails by name)
  "mutation_uncompilable",
  // synth: the tests hang with the bug (the run exceeds its time limit)
  "mutation_hangs",
  // synth: no test notices the bug (every test that passed at the environment's commit still passes)
  "mutation_no_effect",
  // synth: the bug's failing tests are exactly another synthetic bug's of the same environment
  "duplicate_failing_tests",
  // synth: undoing one changed file of the bug alone makes no failing test pass (the file is not needed)
  "inverse_mutation_failed",
]);
export type ReasonCode = z.infer<typeof ReasonCode>;

export const Rejection = z.object({
  id: z.string(),
  repo: z.string(),
  number: z.number().int().nonnegative(),
  stage: Stage,
  reason: ReasonCode,
  detail: z.string().default(""),
  at: z.string(),
});
export type Rejection = z.infer<typeof Rejection>;
