/**
 * In-process queue: jobs run in this process, `concurrency` at a time, with the same retry rule as the
 * Redis queue (a throwing job is tried again up to `attempts` times with exponential backoff).
 */
import { causeOf } from "../util/causes.ts";
import {
  errorText,
  type FeedOptions,
  type JobFeed,
  type JobHandler,
  type JobQueue,
  type JobResult,
  type JobSpec,
  listFeed,
  type RunOptions,
} from "./queue.ts";

export interface MemoryQueueOptions {
  handlers: Record<string, JobHandler>;
  concurrency?: number;
  attempts?: number;
  backoffMs?: number;
}

export class MemoryQueue implements JobQueue {
  readonly kind = "memory";
  readonly reportsStarts = true;
  private readonly o: MemoryQueueOptions;
  private readonly closing = new AbortController();

  constructor(o: MemoryQueueOptions) {
    this.o = o;
  }

  async run(
    jobs: readonly JobSpec[],
    onResult: (r: JobResult) => void | Promise<void>,
    ro: RunOptions = {},
  ): Promise<void> {
    const seen = new Set<string>();
    const unique = jobs.filter((j) => !seen.has(j.id) && seen.add(j.id));
    ro.onEnqueued?.(unique.length);
    await this.feed(listFeed(unique), onResult, ro);
  }

  async feed(feed: JobFeed, onResult: (r: JobResult) => void | Promise<void>, ro: FeedOptions = {}) {
    const signal = ro.signal ? AbortSignal.any([ro.signal, this.closing.signal]) : this.closing.signal;
    // A job id runs once at a time; the feed may hand an id out again once its result is in (a retry).
    const running = new Set<string>();
    // Results are written one at a time, in completion order.
    let writing: Promise<void> = Promise.resolve();
    const deliver = (r: JobResult) => {
      writing = writing.then(() => onResult(r));
      return writing;
    };
    const stop = aborted(signal);
    const lane = async () => {
      while (!signal.aborted) {
        const job = await Promise.race([feed.next(), stop]);
        if (!job || signal.aborted) return;
        if (running.has(job.id)) continue;
        running.add(job.id);
        await this.runOne(job, deliver, ro, signal);
        running.delete(job.id);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency ?? 1) }, lane));
    await writing;
  }

  private async runOne(
    job: JobSpec,
    deliver: (r: JobResult) => Promise<void>,
    ro: RunOptions,
    signal: AbortSignal,
  ): Promise<void> {
    const handler = this.o.handlers[job.name];
    if (!handler) {
      await deliver({
        id: job.id,
        name: job.name,
        ok: false,
        error: `no handler for job kind "${job.name}"`,
      });
      return;
    }
    const attempts = Math.max(1, this.o.attempts ?? 1);
    ro.onStarted?.(job.id);
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await handler(job.data, { id: job.id, attempt, signal });
        await deliver({ id: job.id, name: job.name, ok: true, value });
        return;
      } catch (e) {
        if (signal.aborted) return;
        if (attempt >= attempts) {
          const cause = causeOf(e);
          await deliver({
            id: job.id,
            name: job.name,
            ok: false,
            error: errorText(e),
            ...(cause ? { cause } : {}),
          });
          return;
        }
        await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
      }
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}

/** Resolves with undefined once `signal` aborts (never rejects). */
function aborted(signal: AbortSignal): Promise<undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(undefined), { once: true }));
}
