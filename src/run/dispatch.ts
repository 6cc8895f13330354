/**
 * The coordinator's side of a queued run: one "build-task" job per pending task, results written into the
 * run's store as they come back (this process stays the store's only writer). A job that fails for good
 * (infrastructure, not the task) leaves its task pending: the next run tries it again.
 */
import { randomBytes } from "node:crypto";
import type { JobQueue } from "../queue/queue.ts";
import type { Task } from "../records/index.ts";
import type { Store } from "../store/store.ts";
import { log } from "../util/log.ts";
import { applyBuildResult, type BuildJobData, type BuildJobResult, pickJobOptions } from "./jobs.ts";
import type { PipelineOptions } from "./pipeline.ts";

export interface DispatchSummary {
  instances: number;
  rejected: number;
  /** Tasks whose job failed on every attempt; they stay pending. */
  failed: number;
  /** Instances whose image push was refused. */
  notPushed: number;
}

export async function dispatchTasks(
  store: Store,
  queue: JobQueue,
  pending: readonly Task[],
  o: PipelineOptions & { location: string; registry?: string },
): Promise<DispatchSummary> {
  const s: DispatchSummary = { instances: 0, rejected: 0, failed: 0, notPushed: 0 };
  const options = pickJobOptions(o);
  const started = new Map<string, number>();
  const jobs = pending.map((task, index) => {
    started.set(task.instance_id, Date.now());
    o.onEvent?.({ type: "task-start", id: task.instance_id, index, total: pending.length });
    const data: BuildJobData = { task, location: o.location, repoName: task.repo, options };
    return { id: task.instance_id, name: "build-task", data };
  });
  await queue.run(
    jobs,
    (r) => {
      const ms = Date.now() - (started.get(r.id) ?? Date.now());
      if (!r.ok) {
        s.failed++;
        log.error(
          { id: r.id, err: r.error.split("\n")[0] },
          "job failed on every attempt; the task stays pending",
        );
        o.onEvent?.({ type: "task-end", id: r.id, outcome: "rejected", reason: "sandbox_error", ms });
        return;
      }
      const value = r.value as BuildJobResult;
      // Someone may have decided the task meanwhile (another coordinator): an outcome, once written, stays.
      const now = store.outcome(r.id);
      if (now === "instance" || (now === "rejected" && store.getRejection(r.id)?.stage !== "mine"))
        return log.warn({ id: r.id }, "result for a task that already has an outcome: ignored");
      applyBuildResult(store, value);
      if (value.push && !value.push.ok) {
        s.notPushed++;
        log.error(
          { id: r.id, err: value.push.error },
          "image push refused; the instance stays valid locally",
        );
      }
      if (value.outcome === "instance") s.instances++;
      else s.rejected++;
      o.onEvent?.({
        type: "task-end",
        id: r.id,
        outcome: value.outcome,
        reason: value.rejection?.reason,
        ms,
      });
    },
    { signal: o.signal },
  );
  return s;
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
