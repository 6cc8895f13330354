import type {
  Candidate,
  Environment,
  Instance,
  Rejection,
  SyntheticCandidate,
  Task,
} from "../records/index.ts";

/** What a candidate has become so far. */
export type Outcome = "candidate" | "task" | "instance" | "rejected";

export interface FunnelCounts {
  candidates: number;
  /** Buildable tasks (tasks kept only for generated tests are counted in needs_tests instead). */
  tasks: number;
  /** Tasks without a test change, kept for a builder that writes tests. */
  needs_tests: number;
  /** Buildable tasks with no outcome yet (not built, or the run was stopped). */
  pending: number;
  /** PR instances (synthetic ones are counted apart). */
  instances: number;
  /** Synthetic instances (bugs injected into built environments, src/synth/). */
  synthetic?: number;
  rejections: { stage: string; reason: string; count: number }[];
  languages: { language: string; tasks: number; instances: number }[];
}

/** One repository's counts, as the funnel across repositories shows them. */
export interface RepoCounts {
  repo: string;
  candidates: number;
  /** Buildable tasks (as FunnelCounts.tasks). */
  tasks: number;
  /** Buildable tasks with no outcome yet. */
  pending: number;
  /** Instances of the repository's PRs (synthetic ones are counted apart). */
  instances: number;
  /** Synthetic instances (`synth`) of the repository's environments. */
  synthetic: number;
  /** Rejections at the build and validate stages (the tasks built that did not become instances). */
  failed: number;
  /** Rejections at the mine and split stages. */
  mined_out: number;
  /** The language most of its tasks have. */
  language: string | null;
}

/**
 * The store seam. Every record is written the moment it exists; writes are idempotent upserts
 * keyed by the record's id, so a rerun after a crash rewrites nothing twice and loses nothing.
 */
export interface Store {
  putCandidate(c: Candidate): void;
  getCandidate(id: string): Candidate | undefined;
  listCandidates(repo?: string): Candidate[];

  putTask(t: Task): void;
  getTask(id: string): Task | undefined;
  listTasks(repo?: string): Task[];

  putEnvironment(e: Environment): void;
  getEnvironment(key: string): Environment | undefined;
  listEnvironments(repo?: string): Environment[];

  putInstance(i: Instance): void;
  getInstance(id: string): Instance | undefined;
  listInstances(repo?: string): Instance[];

  /** A rejection ends a candidate: it replaces any earlier rejection, or instance, of the same id. */
  putRejection(r: Rejection): void;
  getRejection(id: string): Rejection | undefined;
  listRejections(repo?: string): Rejection[];
  /** Forget a rejection (e.g. to retry a stage). */
  deleteRejection(id: string): void;

  /** Synthetic bug candidates and what each came to (src/synth/). */
  putSynthetic(c: SyntheticCandidate): void;
  getSynthetic(id: string): SyntheticCandidate | undefined;
  listSynthetic(repo?: string): SyntheticCandidate[];

  outcome(id: string): Outcome | undefined;
  funnel(repo?: string): FunnelCounts;
  /** Counts per repository, in one pass (a run over many repositories). */
  repoCounts(): RepoCounts[];
  /** The same counts per language of the tasks (`language` is the language; `mined_out` is 0). */
  languageCounts(): RepoCounts[];

  /** Small key/value area for run state (cursors, ETags, settings). */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  /** Meta entries whose key starts with `prefix`, by key. */
  listMeta(prefix: string): [string, string][];

  /** Run several writes atomically. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
