/**
 * The coordinator's side of a run, whatever queue carries it: one "build-task" job per pending task (the
 * in-process queue by default, BullMQ with --redis), results written into the run's store as they come
 * back (this process stays the store's only writer). A job that fails for good (the machine, not the task)
 * leaves its task pending: the next run tries it again.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JobQueue } from "../queue/queue.ts";
import type { Task } from "../records/index.ts";
import type { Store } from "../store/store.ts";
import { causeOf } from "../util/causes.ts";
import { log } from "../util/log.ts";
import type { PipelineEvent } from "./events.ts";
import type { BuildJobData, BuildJobResult } from "./jobs.ts";
import { recordPush } from "./push.ts";
import { type TaskOptions, taskOptionsOf } from "./task.ts";

export interface DispatchSummary {
  instances: number;
  rejected: number;
  /** Tasks whose job failed on every attempt; they stay pending. */
  failed: number;
  /** Instances whose image push was refused. */
  notPushed: number;
  /** Set when the repository itself turned out broken (git cannot read its objects): said once, tasks pending. */
  sourceError?: string;
}

export interface DispatchOptions extends TaskOptions {
  runDir: string;
  /** Where the jobs' handlers reach the repository (a clone URL, or a path they can read). */
  location: string;
  /** A clone URL for workers that do not have `location` (another machine), and for missing commits. */
  cloneUrl?: string;
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
}

/** Write what a build job returned; one transaction, idempotent (every write is an upsert by id). */
export function applyBuildResult(store: Store, r: BuildJobResult): void {
  store.transaction(() => {
    if (r.environment && !(r.environmentIfAbsent && store.getEnvironment(r.environment.key)))
      store.putEnvironment(r.environment);
    if (r.instance) store.putInstance(r.instance);
    else if (r.rejection) store.putRejection(r.rejection);
    if (r.push && r.instance) recordPush(store, r.instance.instance_id, r.push);
  });
}

/** A trajectory and build logs that came back from another work folder go where the run keeps them. */
export function keepTrajectory(
  runDir: string,
  id: string,
  r: Pick<BuildJobResult, "trajectory" | "logs">,
): void {
  const path = join(runDir, "trajectories", `${id}.jsonl`);
  if (r.trajectory && !existsSync(path)) {
    mkdirSync(join(runDir, "trajectories"), { recursive: true });
    writeFileSync(path, r.trajectory);
  }
  for (const [name, text] of Object.entries(r.logs ?? {})) {
    const log = join(runDir, "work", id, name);
    if (existsSync(log)) continue;
    mkdirSync(join(runDir, "work", id), { recursive: true });
    writeFileSync(log, text);
  }
}

export async function dispatchTasks(
  store: Store,
  queue: JobQueue,
  pending: readonly Task[],
  o: DispatchOptions,
): Promise<DispatchSummary> {
  const s: DispatchSummary = { instances: 0, rejected: 0, failed: 0, notPushed: 0 };
  const options = taskOptionsOf(o);
  const index = new Map(pending.map((t, i) => [t.instance_id, i]));
  const started = new Map<string, number>();
  const start = (id: string) => {
    if (started.has(id)) return;
    started.set(id, Date.now());
    o.onEvent?.({ type: "task-start", id, index: index.get(id) ?? 0, total: pending.length });
  };
  const jobs = pending.map((task) => {
    const data: BuildJobData = {
      task,
      location: o.location,
      ...(o.cloneUrl ? { cloneUrl: o.cloneUrl } : {}),
      repoName: task.repo,
      options,
    };
    return { id: task.instance_id, name: "build-task", data };
  });
  // A broken source fails every task the same way: the in-process queue stops handing them out.
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  await queue.run(
    jobs,
    (r) => collect(store, r, s, o, started, () => queue.kind === "memory" && stop.abort()),
    {
      signal,
      // A queue that knows when a job starts says so; the others' jobs count as started once handed over.
      onStarted: start,
      onEnqueued: () => {
        if (!queue.reportsStarts) for (const j of jobs) start(j.id);
      },
    },
  );
  return s;
}

function collect(
  store: Store,
  r: Parameters<Parameters<JobQueue["run"]>[1]>[0],
  s: DispatchSummary,
  o: DispatchOptions,
  started: Map<string, number>,
  brokenSource: () => void,
): void {
  const ms = Date.now() - (started.get(r.id) ?? Date.now());
  if (!r.ok) {
    s.failed++;
    const detail = r.error.split("\n")[0] ?? "";
    log.debug({ id: r.id, err: r.error }, "job failed on every attempt; the task stays pending");
    if (r.cause === "source") {
      if (s.sourceError) return; // named once
      s.sourceError = detail.replace(/^\w*Error: /, "");
      brokenSource();
    }
    o.onEvent?.({ type: "task-failed", id: r.id, ...(r.cause ? { cause: r.cause } : {}), detail });
    return;
  }
  const value = r.value as BuildJobResult;
  // Someone may have decided the task meanwhile (another coordinator): an outcome, once written, stays.
  const now = store.outcome(r.id);
  if (now === "instance" || (now === "rejected" && store.getRejection(r.id)?.stage !== "mine")) {
    log.warn({ id: r.id }, "result for a task that already has an outcome: ignored");
    return;
  }
  try {
    applyBuildResult(store, value);
    keepTrajectory(o.runDir, r.id, value);
  } catch (e) {
    if (causeOf(e) !== "disk_full") throw e;
    s.failed++;
    log.error({ id: r.id }, "the disk is full: the task's result could not be written; it stays pending");
    return;
  }
  if (value.push && !value.push.ok) {
    s.notPushed++;
    log.error({ id: r.id, err: value.push.error }, "image push refused; the instance stays valid locally");
  }
  if (value.outcome === "instance") s.instances++;
  else s.rejected++;
  o.onEvent?.({ type: "task-end", id: r.id, outcome: value.outcome, reason: value.rejection?.reason, ms });
}

/** A stable id for the run, kept in its store: names the run's results queue across restarts. */
export function runIdOf(store: Store): string {
  let id = store.getMeta("run_id");
  if (!id) {
    id = randomBytes(6).toString("hex");
    store.setMeta("run_id", id);
  }
  return id;
}
