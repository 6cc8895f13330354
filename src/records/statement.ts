import { z } from "zod";

/** Where a problem statement came from: the linked issues, the PR's own text, or written by us. */
/**
 * Where a problem statement came from: the linked issues, the PR's own text, written by us (the statement
 * writer, or templated from failing-test messages), or, for synthetic tasks (src/synth/), a template over the
 * failing tests or the model.
 */
export const StatementSource = z.enum(["issue", "pr", "written", "template", "model"]);
export type StatementSource = z.infer<typeof StatementSource>;

/**
 * Flags on a statement:
 * - `templated`: written without a model, from validation's failing-test messages in the buggy state;
 * - `writer_failed`: the model gave no statement that passed the checks (empty, leaking, vague) in its
 *   tries, and the original was kept;
 * - `leaks`: the statement kept still fails the rule-based leak check (it names a file, identifier, code
 *   line or test of the fix);
 * - `judge_leak`: the LLM leak judge found the kept statement leaking.
 */
export const StatementFlag = z.enum(["templated", "writer_failed", "leaks", "judge_leak"]);
export type StatementFlag = z.infer<typeof StatementFlag>;

/** What the statement checks found about the statement an instance carries. */
export const StatementReport = z.object({
  /** Where the mined statement came from (the one in `original_problem_statement` when rewritten). */
  original_source: StatementSource,
  flags: z.array(StatementFlag).default([]),
  /** The rule-based leak check's findings on the mined statement. */
  original_leaks: z.array(z.string()).default([]),
  /** The statement gate's verdict on the mined statement ("ok", or why it says nothing). */
  original_gate: z.string().default("ok"),
  /** The rule-based leak check's findings on the statement kept. */
  leaks: z.array(z.string()).default([]),
  /** Statements the model wrote (0 without a model). */
  attempts: z.number().int().nonnegative().default(0),
  /** Why earlier written statements were refused, one line each. */
  refused: z.array(z.string()).default([]),
});
export type StatementReport = z.infer<typeof StatementReport>;

/** One verdict of the PR quality filter: a rule or an LLM check, with a score in [0, 1]. */
export const QualityCheck = z.object({
  check: z.string(),
  kind: z.enum(["rule", "llm"]),
  score: z.number().min(0).max(1),
  detail: z.string().default(""),
});
export type QualityCheck = z.infer<typeof QualityCheck>;

/** The PR quality filter's verdicts: every check, and their mean as one score. */
export const Quality = z.object({
  score: z.number().min(0).max(1),
  checks: z.array(QualityCheck),
  /** What the LLM checks cost (absent without a model). */
  cost: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
      usd: z.number().nonnegative(),
    })
    .optional(),
});
export type Quality = z.infer<typeof Quality>;
