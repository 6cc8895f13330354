import { z } from "zod";

/** A universe run's budgets per repository: what it may spend on each, kept in the run's store. */
export const Budgets = z.object({
  /** Merged PRs mined per repository. */
  prs: z.number().int().positive().optional(),
  /** Tasks built and validated per repository (whatever they came to). */
  builds: z.number().int().positive().optional(),
  /** Wall time of its tasks per repository, ms (tasks under way when it runs out finish). */
  wall_ms: z.number().int().positive().optional(),
});
export type Budgets = z.infer<typeof Budgets>;

export const UniverseConfig = z.object({
  budgets: Budgets,
  created_at: z.string(),
  /** What listed the repositories: a file, a GitHub search (as given). */
  inputs: z.array(z.string()).default([]),
});
export type UniverseConfig = z.infer<typeof UniverseConfig>;

/** Where a repository of the run stands. */
export const RepoStatus = z.enum([
  /** Listed, not mined yet (or mining was interrupted). */
  "listed",
  /** Mined; its tasks are being built (or wait for the next run). */
  "mined",
  /** Every task it may build within its budgets has an outcome. */
  "done",
  /** The repository cannot be used as given (not found, private, broken objects): named, its tasks pending. */
  "input_error",
  /** Something outside did not answer (clone URL, API): tried again at the next run. */
  "unavailable",
]);
export type RepoStatus = z.infer<typeof RepoStatus>;

export const RepoState = z.object({
  /** owner/name as recorded in its ids. */
  name: z.string(),
  /** Its place in the run's list (fair turns start in this order). */
  order: z.number().int().nonnegative(),
  /** Where it was listed: "repos.txt:3", "search". */
  from: z.string(),
  /** The line or search result as given. */
  input: z.string(),
  /** Where the coordinator mines it from: a path or a clone URL. */
  location: z.string(),
  /** Where workers on other machines fetch it from. */
  clone_url: z.string().optional(),
  status: RepoStatus,
  detail: z.string().optional(),
  /** Wall time its tasks took so far (budgets.wall_ms counts it). */
  spent_ms: z.number().nonnegative().default(0),
  /** Why tasks of it were left unbuilt: a budget ran out. */
  stopped: z.enum(["builds", "wall_ms"]).optional(),
});
export type RepoState = z.infer<typeof RepoState>;

/** Something about the run's inputs worth naming: a duplicate, a renamed repository, an unreachable one. */
export const InputNote = z.object({
  from: z.string(),
  input: z.string(),
  kind: z.enum([
    "duplicate",
    "invalid",
    "renamed",
    "not_found",
    "private",
    "unreachable",
    "broken",
    "search_split",
    "search_capped",
    "rate_limited",
  ]),
  detail: z.string(),
  /** The repository it concerns, when there is one. */
  repo: z.string().optional(),
});
export type InputNote = z.infer<typeof InputNote>;

/** A kind of infrastructure failure met during the run, how often, and the last one's words. */
export const InfraCount = z.object({
  kind: z.string(),
  count: z.number().int().nonnegative(),
  last: z.string(),
  /** Where: a worker (host:pid), a repository, the registry. */
  where: z.array(z.string()).default([]),
});
export type InfraCount = z.infer<typeof InfraCount>;
