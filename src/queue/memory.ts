/**
 * In-process queue: jobs run in this process, `concurrency` at a time, with the same retry rule as the
 * Redis queue (a throwing job is tried again up to `attempts` times with exponential backoff).
 */
import { pool } from "../util/pool.ts";
import {
  errorText,
  type JobHandler,
  type JobQueue,
  type JobResult,
  type JobSpec,
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
    const signal = ro.signal ? AbortSignal.any([ro.signal, this.closing.signal]) : this.closing.signal;
    // Results are written one at a time, in completion order.
    let writing: Promise<void> = Promise.resolve();
    const deliver = (r: JobResult) => {
      writing = writing.then(() => onResult(r));
      return writing;
    };
    await pool(
      unique,
      this.o.concurrency ?? 1,
      async (job) => {
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
              await deliver({ id: job.id, name: job.name, ok: false, error: errorText(e) });
              return;
            }
            await new Promise((r) => setTimeout(r, (this.o.backoffMs ?? 1000) * 2 ** (attempt - 1)));
          }
        }
      },
      signal,
    );
    await writing;
  }

  async close(): Promise<void> {
    this.closing.abort();
  }
}
