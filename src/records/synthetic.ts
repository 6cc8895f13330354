import { z } from "zod";
import { RepoName, Sha } from "./common.ts";
import { ReasonCode } from "./rejection.ts";

/** How a synthetic instance's bug was made (the Instance's `synthetic` field; docs/dataset.md). */
export const SyntheticInfo = z.object({
  /** The strategy's name in src/synth/strategies.ts STRATEGIES. */
  strategy: z.string(),
  /** Lines the bug changes (added + removed). */
  changed_lines: z.number().int().nonnegative(),
  files: z.array(z.string()),
  /** Qualified names of the functions the bug is in. */
  symbols: z.array(z.string()),
  /** The PR instance whose image the bug's thin layer is built on. */
  source_instance: z.string(),
  /** The environment's commit the bug was made at (the gold patch restores it; /testbed's history is new). */
  source_commit: Sha,
});
export type SyntheticInfo = z.infer<typeof SyntheticInfo>;

/**
 * One proposed bug and what it came to: an instance (same id) or a named rejection. Kept for every
 * candidate, so yields, costs and reasons can be counted per strategy (src/synth/report.ts).
 */
export const SyntheticCandidate = z.object({
  id: z.string(),
  repo: RepoName,
  environment_key: z.string(),
  source_instance: z.string(),
  strategy: z.string(),
  files: z.array(z.string()),
  symbols: z.array(z.string()),
  /** What the strategy did (line, operator, commit reverted; the model's own words). */
  note: z.string().default(""),
  /** The bug as a patch on the environment's commit. */
  bug_patch: z.string(),
  changed_lines: z.number().int().nonnegative(),
  outcome: z.enum(["instance", "rejected"]),
  reason: ReasonCode.optional(),
  detail: z.string().default(""),
  /** CPU time its containers used (cgroup accounting), or their wall time where the engine gives none. */
  cpu_ms: z.number().nonnegative().default(0),
  cpu_measured: z.boolean().default(false),
  wall_ms: z.number().nonnegative().default(0),
  at: z.string(),
});
export type SyntheticCandidate = z.infer<typeof SyntheticCandidate>;
