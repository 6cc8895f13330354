/**
 * The BullMQ worker side (`startWorker`, the `worker` verb): runs jobs of the tasks queue and adds each
 * result to the results queue named in the job before the job completes (src/queue/bullmq.ts has the
 * coordinator's side and the durability this relies on).
 */
import { hostname } from "node:os";
import { type Job, Queue, WaitingError, Worker } from "bullmq";
import { causeOf } from "../util/causes.ts";
import { connection, DEFAULT_QUEUE, type Envelope, jobKey, redisWarn } from "./bullmq.ts";
import { errorText, type JobHandler, type JobNotice, type JobResult } from "./queue.ts";

/**
 * Thrown by a job handler when this host, not the task, is the problem (a full disk, a registry that refuses
 * its pushes): the job goes back to the queue for another worker, and this one pauses.
 */
export class HostShortage extends Error {
  readonly kind: string;
  constructor(message: string, kind = "disk_full") {
    super(message);
    this.kind = kind;
  }
}

/** How a worker names itself in notices: host and pid. */
export const WORKER_NAME = `${hostname()}:${process.pid}`;

export interface WorkerOptions {
  url: string;
  queue?: string;
  handlers: Record<string, JobHandler>;
  concurrency?: number;
  /** Lock of a running job; a worker that dies loses its jobs after this long (default 30 s). */
  lockMs?: number;
  /** How often stalled jobs are looked for (default lockMs). */
  stalledMs?: number;
  /** Shared by every worker of the queue: at most `max` jobs started per `durationMs`. */
  limiter?: { max: number; durationMs: number };
  onEvent?: (e: {
    type: "start" | "done" | "failed" | "returned" | "paused" | "resumed";
    id: string;
    detail?: string;
  }) => void;
  /**
   * Why this host cannot take work now (e.g. "200 MiB free on /var/lib/containers"), else undefined. While
   * it says so the worker hands its jobs back (other workers take them) and takes no new ones.
   */
  shortage?: () => string | undefined;
  /** How often a paused worker looks again (default 30 s). */
  shortageCheckMs?: number;
  /** Told when a job handler said this host is short of something (HostShortage), before the worker pauses. */
  onShortage?: (kind: string, why: string) => void;
}

export interface WorkerHandle {
  worker: Worker;
  /** Hand running jobs back to the queue (waiting again, not failed) and stop. */
  shutdown(): Promise<void>;
}

/** The results queues a worker writes to, one per coordinator run, opened when first needed. */
function resultsQueues(url: string) {
  const queues = new Map<string, Queue>();
  return {
    get(name: string): Queue {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, { connection: connection(url) });
        q.on("error", redisWarn("results"));
        queues.set(name, q);
      }
      return q;
    },
    closeAll: () => Promise.all([...queues.values()].map((q) => q.close())),
  };
}

/** A notice to the coordinator (a worker short of something); its first line only, lost quietly if Redis is. */
async function tellCoordinator(results: Queue, n: JobNotice): Promise<void> {
  const notice: JobNotice = { ...n, detail: n.detail.split("\n")[0]! };
  await results.add("notice", notice, { removeOnComplete: true }).catch(() => {});
}

/** The result of a job that failed for good, with the typed cause when the error carries one. */
function failure(env: Envelope, job: Job, e: unknown): JobResult {
  const cause = causeOf(e);
  return { id: env.id, name: job.name, ok: false, error: errorText(e), ...(cause ? { cause } : {}) };
}

/** Run a handler until it returns or the worker shuts down (the abort rejects at once). */
function runHandler(handler: JobHandler, env: Envelope, job: Job, signal: AbortSignal): Promise<unknown> {
  const aborted = new Promise<never>((_, reject) =>
    signal.addEventListener("abort", () => reject(new Error("worker shutting down")), { once: true }),
  );
  aborted.catch(() => {});
  return Promise.race([handler(env.data, { id: env.id, attempt: job.attemptsMade + 1, signal }), aborted]);
}

export function startWorker(o: WorkerOptions): WorkerHandle {
  const results = resultsQueues(o.url);
  const active = new Map<string, { abort: AbortController; job: Job; token?: string }>();
  const lockMs = o.lockMs ?? 30_000;

  let paused: ReturnType<typeof setInterval> | undefined;
  /** Hand the job back and stop taking jobs until the shortage is over. */
  const handBack = async (
    job: Job,
    token: string | undefined,
    why: string,
    kind = "disk_full",
  ): Promise<never> => {
    const env = job.data as Envelope;
    await job.moveToWait(token);
    o.onEvent?.({ type: "returned", id: env.id, detail: why.split("\n")[0] });
    await tellCoordinator(results.get(env.results), { id: env.id, worker: WORKER_NAME, kind, detail: why });
    if (!paused) {
      o.onEvent?.({ type: "paused", id: env.id, detail: why.split("\n")[0] });
      worker.pause(true);
      paused = setInterval(() => {
        if (o.shortage?.()) return;
        clearInterval(paused);
        paused = undefined;
        o.onEvent?.({ type: "resumed", id: env.id });
        worker.resume();
      }, o.shortageCheckMs ?? 30_000);
    }
    throw new WaitingError();
  };

  /** A job that threw: handed back when the worker stops or the host is short, else failed (and told, last time). */
  const failed = async (job: Job, token: string | undefined, e: unknown, abort: AbortController) => {
    const env = job.data as Envelope;
    if (abort.signal.aborted) {
      await job.moveToWait(token);
      o.onEvent?.({ type: "returned", id: env.id });
      throw new WaitingError();
    }
    if (e instanceof HostShortage) {
      o.onShortage?.(e.kind, e.message);
      return handBack(job, token, e.message, e.kind);
    }
    const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    o.onEvent?.({ type: "failed", id: env.id, detail: errorText(e).split("\n")[0] });
    if (last) await results.get(env.results).add("result", failure(env, job, e), { removeOnComplete: true });
    throw e;
  };

  const processor = async (job: Job, token?: string) => {
    const env = job.data as Envelope;
    const handler = o.handlers[job.name];
    if (!handler) throw new Error(`no handler for job kind "${job.name}"`);
    const short = o.shortage?.();
    if (short) return handBack(job, token, short);
    const abort = new AbortController();
    active.set(job.id ?? env.id, { abort, job, token });
    o.onEvent?.({ type: "start", id: env.id });
    try {
      const value = await runHandler(handler, env, job, abort.signal);
      await results
        .get(env.results)
        .add("result", { id: env.id, name: job.name, ok: true, value } satisfies JobResult, {
          jobId: jobKey(`${env.id}@${job.attemptsStarted ?? job.attemptsMade}`),
          removeOnComplete: true,
        });
      o.onEvent?.({ type: "done", id: env.id });
      return null;
    } catch (e) {
      return failed(job, token, e, abort);
    } finally {
      active.delete(job.id ?? env.id);
    }
  };

  const worker = new Worker(o.queue ?? DEFAULT_QUEUE, processor, {
    connection: connection(o.url),
    concurrency: o.concurrency ?? 1,
    lockDuration: lockMs,
    stalledInterval: o.stalledMs ?? lockMs,
    maxStalledCount: 5,
    limiter: o.limiter ? { max: o.limiter.max, duration: o.limiter.durationMs } : undefined,
  });
  worker.on("error", redisWarn("worker"));

  return {
    worker,
    async shutdown() {
      clearInterval(paused);
      const closing = worker.close();
      for (const a of active.values()) a.abort.abort();
      await closing;
      await results.closeAll();
    },
  };
}
