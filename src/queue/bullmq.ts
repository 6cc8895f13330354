/**
 * Redis queue on BullMQ. The coordinator (`BullQueue`) adds one job per task to the tasks queue (job id =
 * run id + task id, so re-adding after a coordinator restart is a no-op while the job exists, and two runs
 * sharing one tasks queue and its workers never take each other's jobs or results) and consumes a results
 * queue of its own run; workers (`startWorker`, src/queue/bullmq-worker.ts) run jobs and add each result
 * to the results queue named in the job before the job completes. Results survive a coordinator that is
 * down.
 *
 * Durability comes from BullMQ: retries with exponential backoff (`attempts`), stalled-job recovery (a
 * worker that dies holding a job loses its lock after `lockDuration`; another worker's stalled check puts
 * the job back), a rate limiter shared by every worker of the queue, and ioredis reconnection
 * (`maxRetriesPerRequest: null`: commands wait for Redis to come back instead of failing).
 */
import { type ConnectionOptions, type Job, Queue, Worker } from "bullmq";
import { log } from "../util/log.ts";
import {
  errorText,
  type FeedOptions,
  type JobFeed,
  type JobNotice,
  type JobQueue,
  type JobResult,
  type JobSpec,
  type RunOptions,
} from "./queue.ts";

export const DEFAULT_QUEUE = "sweu-tasks";

const lastWarn = new Map<string, number>();
/** Connection errors repeat on every reconnect attempt: say it once per 5 s per source. */
export function redisWarn(source: string): (e: Error) => void {
  return (e) => {
    const now = Date.now();
    if (now - (lastWarn.get(source) ?? 0) < 5000) return;
    lastWarn.set(source, now);
    log.warn({ err: e.message }, `redis (${source}): retrying`);
  };
}

/** What travels in a tasks-queue job. */
export interface Envelope {
  id: string;
  data: unknown;
  /** Name of the results queue of the coordinator that enqueued the job. */
  results: string;
}

export function connection(url: string): ConnectionOptions {
  return {
    url,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}

/** BullMQ ids may not be integers nor contain ":". */
export function jobKey(id: string): string {
  return `j.${id.replaceAll("%", "%25").replaceAll(":", "%3A")}`;
}

export interface BullQueueOptions {
  url: string;
  /** Tasks queue name (workers listen to it). */
  queue?: string;
  /** Stable id of the run (kept in its store): names the results queue, so a restarted coordinator finds its results. */
  runId: string;
  attempts?: number;
  backoffMs?: number;
  /** How often to look for jobs that failed for good or went missing. */
  sweepMs?: number;
}

export class BullQueue implements JobQueue {
  readonly kind = "bullmq";
  readonly reportsStarts = false;
  readonly name: string;
  readonly resultsName: string;
  private readonly o: BullQueueOptions;
  private readonly tasks: Queue;
  private consumer: Worker | undefined;

  constructor(o: BullQueueOptions) {
    this.o = o;
    this.name = o.queue ?? DEFAULT_QUEUE;
    this.resultsName = `${this.name}-results-${o.runId}`;
    this.tasks = new Queue(this.name, { connection: connection(o.url) });
    this.tasks.on("error", redisWarn("tasks queue"));
  }

  /** The job id of a task of this run: runs that share the tasks queue keep apart. */
  private key(id: string): string {
    return jobKey(`${this.o.runId}/${id}`);
  }

  private jobOptions(id: string) {
    return {
      jobId: this.key(id),
      attempts: this.o.attempts ?? 3,
      backoff: { type: "exponential" as const, delay: this.o.backoffMs ?? 2000 },
      removeOnComplete: true,
      removeOnFail: { count: 10_000 },
    };
  }

  /**
   * The consumer of this run's results queue: results are fetched many at a time but written one at a time,
   * in arrival order; notices go to `onNotice`. `settled` is called after each job's result is written.
   */
  private consume(
    outstanding: Map<string, JobSpec>,
    onResult: (r: JobResult) => void | Promise<void>,
    ro: RunOptions,
    settled: () => void,
  ): (r: JobResult) => Promise<void> {
    let writing: Promise<void> = Promise.resolve();
    const deliver = (r: JobResult): Promise<void> => {
      writing = writing.then(async () => {
        if (!outstanding.delete(r.id)) return; // a duplicate (a job that ran twice) or another run's
        await onResult(r);
        settled();
      });
      return writing;
    };
    this.consumer = new Worker(
      this.resultsName,
      async (job: Job) => {
        if (job.name === "notice") return ro.onNotice?.(job.data as JobNotice);
        return deliver(job.data as JobResult);
      },
      { connection: connection(this.o.url), concurrency: 64, removeOnComplete: { count: 0 } },
    );
    this.consumer.on("error", redisWarn("results"));
    return deliver;
  }

  private envelope(j: JobSpec) {
    return {
      name: j.name,
      data: { id: j.id, data: j.data, results: this.resultsName } satisfies Envelope,
      opts: this.jobOptions(j.id),
    };
  }

  async run(
    jobs: readonly JobSpec[],
    onResult: (r: JobResult) => void | Promise<void>,
    ro: RunOptions = {},
  ): Promise<void> {
    const outstanding = new Map(jobs.map((j) => [j.id, j]));
    if (outstanding.size === 0) return;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const deliver = this.consume(outstanding, onResult, ro, () => {
      if (outstanding.size === 0) finish();
    });

    // Jobs of these ids that failed for good in an earlier run are removed, so they can be added again.
    const failed = await this.tasks.getFailed(0, -1);
    const keys = new Set([...outstanding.keys()].map((id) => this.key(id)));
    for (const j of failed) if (j.id && keys.has(j.id)) await j.remove().catch(() => {});
    const list = [...outstanding.values()];
    for (let i = 0; i < list.length; i += 1000) {
      await this.tasks.addBulk(list.slice(i, i + 1000).map((j) => this.envelope(j)));
    }
    ro.onEnqueued?.(list.length);

    const sweep = setInterval(() => void this.sweep(outstanding, deliver), this.o.sweepMs ?? 2000);
    const onAbort = () => finish();
    ro.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await done;
    } finally {
      clearInterval(sweep);
      ro.signal?.removeEventListener("abort", onAbort);
      await this.consumer?.close();
      this.consumer = undefined;
    }
  }

  /**
   * Keep at most `window` jobs of the feed outstanding in Redis, taking the next as each result is written:
   * what comes next is decided as late as possible (fair turns, budgets, a paused run).
   */
  async feed(feed: JobFeed, onResult: (r: JobResult) => void | Promise<void>, ro: FeedOptions = {}) {
    const outstanding = new Map<string, JobSpec>();
    const window = Math.max(1, ro.window ?? 32);
    let ended = false;
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    let room: (() => void) | undefined;
    const deliver = this.consume(outstanding, onResult, ro, () => {
      room?.();
      if (ended && outstanding.size === 0) finish();
    });
    const failed = new Set((await this.tasks.getFailed(0, -1)).map((j) => j.id));
    const resubmit = new Set<string>();
    const sweep = setInterval(() => void this.sweep(outstanding, deliver), this.o.sweepMs ?? 2000);
    let unblock!: (v: undefined) => void;
    const stopped = new Promise<undefined>((r) => {
      unblock = r;
    });
    const onAbort = () => {
      finish();
      room?.();
      unblock(undefined);
    };
    ro.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!ro.signal?.aborted) {
        while (outstanding.size >= window && !ro.signal?.aborted)
          await new Promise<void>((r) => {
            room = r;
          });
        const j = await Promise.race([feed.next(), stopped]);
        if (!j || ro.signal?.aborted) break;
        if (outstanding.has(j.id)) continue;
        outstanding.set(j.id, j);
        const key = this.key(j.id);
        // A job of this id that failed for good (earlier, or in this feed before it was handed out again).
        if (failed.delete(key) || resubmit.has(j.id))
          await (await this.tasks.getJob(key))?.remove().catch(() => {});
        resubmit.add(j.id);
        const e = this.envelope(j);
        await this.tasks.add(e.name, e.data, e.opts);
        ro.onEnqueued?.(1);
      }
      ended = true;
      if (outstanding.size === 0) finish();
      await done;
    } finally {
      clearInterval(sweep);
      ro.signal?.removeEventListener("abort", onAbort);
      await this.consumer?.close();
      this.consumer = undefined;
    }
  }

  private sweeping = false;

  /** Jobs that failed for good become failure results; jobs gone missing (e.g. Redis lost them) are re-added. */
  private async sweep(outstanding: Map<string, JobSpec>, deliver: (r: JobResult) => Promise<void>) {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      const c = await this.tasks.getJobCounts("waiting", "active", "delayed", "prioritized");
      const busy = Object.values(c).reduce((a, b) => a + b, 0);
      if (busy > 0 && outstanding.size > 200) return;
      const results = new Queue(this.resultsName, { connection: connection(this.o.url) });
      try {
        for (const [id, spec] of [...outstanding]) {
          const job = await this.tasks.getJob(this.key(id));
          const state = job ? await job.getState() : "unknown";
          if (state === "failed" && job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
            await deliver({ id, name: spec.name, ok: false, error: job.failedReason || "failed" });
          } else if (state === "unknown") {
            const rc = await results.getJobCounts("waiting", "active");
            if ((rc.waiting ?? 0) + (rc.active ?? 0) > 0) return; // its result may be on the way
            if (!outstanding.has(id)) continue;
            log.warn({ id }, "job missing from the queue: enqueued again");
            await this.tasks.add(
              spec.name,
              { id, data: spec.data, results: this.resultsName } satisfies Envelope,
              this.jobOptions(id),
            );
          }
        }
      } finally {
        await results.close();
      }
    } catch (e) {
      log.warn({ err: errorText(e) }, "queue sweep failed (will retry)");
    } finally {
      this.sweeping = false;
    }
  }

  async close(): Promise<void> {
    await this.consumer?.close();
    await this.tasks.close();
  }
}
