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
  /** The job failed on every attempt (infrastructure trouble, not the task's own fault). */
  | { id: string; name: string; ok: false; error: string };

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
  close(): Promise<void>;
}

export const QUEUE_KINDS = ["memory", "bullmq"] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

export function errorText(e: unknown): string {
  return (e instanceof Error ? (e.stack ?? e.message) : String(e)).slice(0, 8000);
}
