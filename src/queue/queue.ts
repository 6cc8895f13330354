/**
 * The queue seam: hand jobs to whoever runs them and collect one result per job. Two implementations
 * behind a string key: "memory" (in-process, the default) and "bullmq" (Redis; workers on any number of
 * machines run `swe-universe worker`). The caller stays the single writer of its store: results come back
 * to it, it writes them.
 */

/** One unit of work. `id` is stable (a task's instance id): enqueueing the same id twice runs it once. */
export interface JobSpec<D = unknown> {
  id: string;
  /** Job kind, a key of the handler table (src/run/jobs.ts). */
  name: string;
  data: D;
}

export type JobResult<R = unknown> =
  | { id: string; name: string; ok: true; value: R }
  /**
   * The job failed on every attempt (infrastructure trouble, not the task's own fault). `cause` is the typed
   * cause of the last error when it had one (src/util/causes.ts: "engine", "source", "registry", …).
   */
  | { id: string; name: string; ok: false; error: string; cause?: string };

/**
 * Jobs handed over as the queue has room for them. `next` resolves with the next job, or with undefined when
 * there are no more; it may wait (for results that decide what comes next, for a paused run to resume).
 */
export interface JobFeed {
  next(): Promise<JobSpec | undefined>;
}

/** What a worker says about a job besides its result (it handed the job back, and why). */
export interface JobNotice {
  id: string;
  /** Who says it: the worker's host and pid. */
  worker: string;
  kind: string;
  detail: string;
}

export interface JobContext {
  id: string;
  /** 1-based. */
  attempt: number;
  /** Aborted when the worker shuts down; the job should stop and throw (it is handed back to the queue). */
  signal: AbortSignal;
}

export type JobHandler = (data: unknown, ctx: JobContext) => Promise<unknown>;

export interface RunOptions {
  signal?: AbortSignal;
  /** Called when a job is handed over (enqueued). */
  onEnqueued?: (count: number) => void;
  /** Called when a job starts running, by queues that know (`reportsStarts`). */
  onStarted?: (id: string) => void;
  /** Called with what workers say about jobs besides their results (e.g. a job handed back, and why). */
  onNotice?: (n: JobNotice) => void;
}

export interface FeedOptions extends RunOptions {
  /** Jobs handed over and not yet resulted, at most (queues with remote workers; default 32). */
  window?: number;
}

export interface JobQueue {
  readonly kind: string;
  /** Whether `run` calls `onStarted` as each job starts (an in-process queue can; a remote one cannot). */
  readonly reportsStarts: boolean;
  /**
   * Enqueue `jobs` and call `onResult` exactly once per job id as results come back (awaited one at a time,
   * so the callback may write a store). Resolves once every job has its result, or when `signal` aborts.
   */
  run(
    jobs: readonly JobSpec[],
    onResult: (r: JobResult) => void | Promise<void>,
    o?: RunOptions,
  ): Promise<void>;
  /**
   * Take jobs from `feed` as there is room (the in-process queue: its concurrency; a remote one: `window`
   * jobs outstanding) and call `onResult` once per job id, as `run` does. Resolves once the feed is
   * exhausted and every job taken has its result, or when `signal` aborts.
   */
  feed(feed: JobFeed, onResult: (r: JobResult) => void | Promise<void>, o?: FeedOptions): Promise<void>;
  close(): Promise<void>;
}

export const QUEUE_KINDS = ["memory", "bullmq"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** A feed over a fixed list of jobs. */
export function listFeed(jobs: readonly JobSpec[]): JobFeed {
  let i = 0;
  return { next: async () => jobs[i++] };
}

export function errorText(e: unknown): string {
  return (e instanceof Error ? (e.stack ?? e.message) : String(e)).slice(0, 8000);
}
