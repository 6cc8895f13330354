import { z } from "zod";
import { Language, RepoName, Sha } from "./common.ts";
import { Quality, StatementSource } from "./statement.ts";

/**
 * Where a problem statement came from: the linked issues, the PR's own title and body, or, for synthetic
 * tasks (src/synth/), a template over the failing tests or a model.
 */
/** A task's statement source: mined ones say issue or pr, synthetic ones template or model. */
export const ProblemStatementSource = StatementSource;
export type ProblemStatementSource = StatementSource;

/** A candidate split into fix patch and test patch, with a problem statement. */
export const Task = z.object({
  instance_id: z.string(),
  repo: RepoName,
  number: z.number().int().positive(),
  base_commit: Sha,
  resolved_commit: Sha,
  created_at: z.string(),
  /** Non-test code changes: the gold patch. */
  patch: z.string(),
  /** Test changes. */
  test_patch: z.string(),
  problem_statement: z.string(),
  /** Where the problem statement came from: the linked issues, or the PR's own title and body. */
  problem_statement_source: ProblemStatementSource,
  hints_text: z.string().default(""),
  /**
   * The PR's own title and body, kept beside `problem_statement` (which holds the linked issues' text when
   * there is one): the statement writer reads both. Absent in records made before it existed.
   */
  pr_text: z.string().optional(),
  /** The PR quality filter's verdicts and score (src/mine/quality.ts). */
  quality: Quality.optional(),
  language: Language,
  languages: z.array(Language),
  test_files: z.array(z.string()),
  code_files: z.array(z.string()),
  other_files: z.array(z.string()).default([]),
  /** Set when the PR has no test change and the builder must write tests (Scale-SWE's unit-test creator). */
  needs_generated_tests: z.boolean().default(false),
});
export type Task = z.infer<typeof Task>;
