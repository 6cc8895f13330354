import { appendFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  type AnyBuildOutcome,
  type BuilderKind,
  buildTask,
  validatedTask,
  withAgentRecord,
} from "../builder/agent/cascade.ts";
import type { Budget } from "../builder/agent/loop.ts";
import { type ExportResult, exportRun } from "../export/index.ts";
import { parserFor } from "../harness/parse-run.ts";
import { mine } from "../mine/mine.ts";
import type { Source } from "../mine/source.ts";
import type { Model } from "../model/model.ts";
import type { JobQueue } from "../queue/queue.ts";
import type { ReasonCode, Rejection, Stage, Task } from "../records/index.ts";
import { ensureBaseImage } from "../sandbox/base-image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";
import { log } from "../util/log.ts";
import { validate } from "../validate/validate.ts";
import { DiskGuard, isDiskFull } from "./disk.ts";
import { dispatchTasks } from "./dispatch.ts";
import { defaultLimits, limiters, limitSandbox, pool } from "./limits.ts";
import { pushImage, recordPush } from "./push.ts";
import { reapOrphans } from "./reap.ts";

export interface PipelineOptions {
  runDir: string;
  /** Mining limits. */
  limit?: number;
  since?: string;
  maxFiles?: number;
  maxLines?: number;
  runsPerState?: number;
  maxAttempts?: number;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  skipProbes?: boolean;
  /** CPU quota of the load probe (default 0.25); 0 turns it off, as does skipProbes. */
  loadProbeCpus?: number;
  /** Share environment images between tasks whose dependency manifests match (default true). */
  reuse?: boolean;
  /** Keep the scratch build context of each task (default: removed once the task ends). */
  keepWork?: boolean;
  /** Only these instance ids. */
  only?: string[];
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
  /** recipe (default), agent, or cascade (recipes first, the agent where they fail); see src/builder/agent. */
  builder?: BuilderKind;
  /** The model of the agent builder and its judge. */
  model?: Model;
  agentBudget?: Partial<Budget>;
  /** Tasks built at once in this process (default 1); resources are capped in src/run/limits.ts. */
  workers?: number;
  /** Hand tasks to this queue's workers instead of building here (distributed mode). */
  queue?: JobQueue;
  /** Where queue workers reach the repository (clone URL or shared path; default: the local clone). */
  location?: string;
  /** Pause new tasks while the run folder or the engine's storage has less free space than this (default 1 GiB). */
  minFreeDisk?: number;
  /** How often to look at free space while paused (default 30 s). */
  diskCheckMs?: number;
  /** Push validated images to HOST/PREFIX (here, or on the queue's workers); refusals are recorded, not fatal. */
  registry?: string;
}

export type PipelineEvent =
  | { type: "mined"; tasks: number; rejections: number; skipped: number }
  | { type: "task-start"; id: string; index: number; total: number }
  | { type: "task-end"; id: string; outcome: "instance" | "rejected"; reason?: ReasonCode; ms: number }
  | { type: "paused"; why: string }
  | { type: "resumed"; ms: number };

/** A task that met a full disk: nothing was recorded for it; it is tried again once there is room. */
export const DISK_FULL = "disk_full" as const;
export type TaskOutcome = "instance" | ReasonCode | typeof DISK_FULL;

export interface PipelineSummary {
  mined: { tasks: number; rejections: number; skipped: number };
  built: number;
  instances: number;
  rejected: number;
  export: ExportResult;
}

function reject(store: Store, task: Task, stage: Stage, reason: ReasonCode, detail: string): Rejection {
  const r: Rejection = {
    id: task.instance_id,
    repo: task.repo,
    number: task.number,
    stage,
    reason,
    detail: detail.slice(0, 8000),
    at: new Date().toISOString(),
  };
  store.putRejection(r);
  return r;
}

/** Build and validate one task, writing its Instance or Rejection. Never throws for the task's own faults. */
export async function processTask(
  task: Task,
  ctx: {
    store: Store;
    sandbox: Sandbox;
    gitDir: string;
    baseImage: string;
    runDir: string;
    /** Told what a full disk said when the outcome is DISK_FULL. */
    onDiskFull?: (detail: string) => void;
  },
  o: PipelineOptions,
): Promise<TaskOutcome> {
  const diskFull = (detail: string): typeof DISK_FULL => {
    log.warn(
      { id: task.instance_id, err: detail.split("\n")[0] },
      "disk full during the task: nothing recorded, it will be tried again",
    );
    ctx.onDiskFull?.(detail);
    return DISK_FULL;
  };
  const workDir = join(o.runDir, "work", task.instance_id);
  const trajectory = join(o.runDir, "trajectories", `${task.instance_id}.jsonl`);
  let built: AnyBuildOutcome | undefined;
  const append = (e: object) =>
    appendFileSync(trajectory, `${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
  try {
    mkdirSync(workDir, { recursive: true });
    mkdirSync(join(o.runDir, "trajectories"), { recursive: true });
    rmSync(trajectory, { force: true });
    for (let pass = 0; ; pass++) {
      built = await buildTask(task, {
        builder: o.builder ?? "recipe",
        model: o.model,
        budget: o.agentBudget,
        signal: o.signal,
        onAgentEvent: append,
        sandbox: ctx.sandbox,
        gitDir: ctx.gitDir,
        workDir,
        baseImage: ctx.baseImage,
        parserFor,
        maxAttempts: o.maxAttempts,
        buildTimeoutMs: o.buildTimeoutMs,
        testTimeoutMs: o.testTimeoutMs,
        onAttempt: append,
        reuse: pass === 0 ? o.reuse : false,
        nearestEnvironments: (repo, recipe) =>
          ctx.store
            .listEnvironments(repo)
            .filter((e) => e.recipe === recipe)
            .sort((a, b) => b.created_at.localeCompare(a.created_at)),
      });
      if (!built.ok) {
        if (isDiskFull(built.detail)) return diskFull(built.detail);
        reject(ctx.store, task, "build", built.reason, built.detail);
        return built.reason;
      }
      // A rebuild from scratch (pass 1) keeps the shared environment's record under the same key.
      if (pass === 0 || !ctx.store.getEnvironment(built.environment.key))
        ctx.store.putEnvironment(built.environment);
      // The agent ran both probes on this image and script inside its loop; validation need not repeat them.
      const agentChecks = "agent" in built ? built.checks : [];
      const probed = ["comment-probe", "no-tests-probe"].every((n) =>
        agentChecks.some((c) => c.check === n && c.passed),
      );
      const v = await validate(validatedTask(task, built), built, {
        sandbox: ctx.sandbox,
        parserFor,
        runsPerState: o.runsPerState,
        testTimeoutMs: o.testTimeoutMs,
        skipProbes: o.skipProbes || probed,
        loadProbeCpus: o.skipProbes ? 0 : o.loadProbeCpus,
        leakProbe: !o.skipProbes,
      });
      if (!v.ok) {
        if (isDiskFull(v.detail)) return diskFull(v.detail);
        // The task's own image only: a shared environment image stays for the next tasks.
        await ctx.sandbox.removeImage(built.image ?? built.environment.image).catch(() => {});
        // An environment built at another commit (tasks out of order, --retry, workers) can carry that
        // commit's build output, and with it the fix: build this task's environment from scratch once.
        const shared = "reuse" in built && (built.reuse === "exact" || built.reuse === "nearest");
        if (v.reason === "fix_leaked" && shared && pass === 0) {
          append({
            stage: "leak",
            detail: `${v.detail.split("\n")[0]}; building without the shared environment`,
          });
          continue;
        }
        reject(ctx.store, task, "validate", v.reason, v.detail);
        return v.reason;
      }
      ctx.store.putInstance(withAgentRecord(v.instance, built));
      return "instance";
    }
  } catch (e) {
    const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
    if (isDiskFull(`${msg} ${(e as { code?: string }).code ?? ""}`)) return diskFull(msg);
    log.error({ id: task.instance_id, err: msg }, "task failed");
    reject(ctx.store, task, built?.ok ? "validate" : "build", "sandbox_error", msg);
    return "sandbox_error";
  } finally {
    if (!o.keepWork) rmSync(join(workDir, "context"), { recursive: true, force: true });
  }
}

/** The guard of a run: its folder and the engine's storage, paused below `minFreeDisk`. */
export async function diskGuard(
  sandbox: Sandbox,
  o: Pick<PipelineOptions, "runDir" | "minFreeDisk" | "diskCheckMs" | "onEvent">,
): Promise<DiskGuard> {
  return new DiskGuard({
    paths: [o.runDir, await sandbox.storagePath?.()],
    minFreeBytes: o.minFreeDisk ?? 1024 ** 3,
    checkMs: o.diskCheckMs,
    onPause: (why) => {
      log.warn(why);
      o.onEvent?.({ type: "paused", why });
    },
    onResume: (ms) => {
      log.info({ ms }, "disk space is back: going on");
      o.onEvent?.({ type: "resumed", ms });
    },
  });
}

/** processTask, paused while the disk is short and tried again when a full disk got in its way. */
export async function processTaskWithRoom(
  task: Task,
  ctx: Parameters<typeof processTask>[1] & { disk: DiskGuard },
  o: PipelineOptions,
): Promise<TaskOutcome> {
  let full = "";
  const onDiskFull = (detail: string) => {
    full = detail;
  };
  for (;;) {
    await ctx.disk.ready(o.signal);
    if (o.signal?.aborted) return DISK_FULL;
    const outcome = await processTask(task, { ...ctx, onDiskFull }, o);
    if (outcome !== DISK_FULL || o.signal?.aborted) return outcome;
    await ctx.disk.afterFull(full, o.signal);
  }
}

/**
 * mine → build → validate → export. Every outcome is stored as it happens; a rerun picks up the tasks
 * that have none yet.
 */
export async function runPipeline(
  source: Source & { git?: { dir: string } },
  store: Store,
  sandbox: Sandbox,
  o: PipelineOptions,
): Promise<PipelineSummary> {
  const mined = await mine(source, store, {
    limit: o.limit,
    since: o.since,
    maxFiles: o.maxFiles,
    maxLines: o.maxLines,
  });
  o.onEvent?.({ type: "mined", tasks: mined.tasks, rejections: mined.rejections, skipped: mined.skipped });
  const gitDir = source.git?.dir;
  if (!gitDir) throw new Error(`source ${source.kind} has no local clone to build from`);
  store.setMeta(`git_dir:${source.repo}`, gitDir);
  return buildPending(store, sandbox, { ...o, repo: source.repo, gitDir }, mined);
}

/** Build and validate every task of the run that has no outcome yet, then export. */
export async function buildPending(
  store: Store,
  sandbox: Sandbox,
  o: PipelineOptions & { repo?: string; gitDir: string },
  mined: PipelineSummary["mined"] = { tasks: 0, rejections: 0, skipped: 0 },
): Promise<PipelineSummary> {
  const gitDir = o.gitDir;

  const pending = store
    .listTasks(o.repo)
    .filter((t) => store.outcome(t.instance_id) === "task" || writesTests(store, t, o))
    .filter((t) => !o.only || o.only.includes(t.instance_id));
  let instances = 0;
  let rejected = 0;
  if (pending.length && o.queue) {
    // Distributed: workers build, results come back here (see src/queue/dispatch.ts).
    for (const t of pending) if (writesTests(store, t, o)) store.deleteRejection(t.instance_id);
    const s = await dispatchTasks(store, o.queue, pending, { ...o, location: o.location ?? gitDir });
    instances = s.instances;
    rejected = s.rejected;
  } else if (pending.length) {
    await reapOrphans(sandbox);
    const baseImage = await ensureBaseImage(sandbox);
    // N tasks at once, with per-resource limits (src/run/limits.ts).
    const workers = o.workers ?? 1;
    const sb = workers > 1 ? limitSandbox(sandbox, limiters(defaultLimits(workers))) : sandbox;
    const disk = await diskGuard(sandbox, o);
    await pool(
      pending,
      workers,
      async (task, index) => {
        if (writesTests(store, task, o)) store.deleteRejection(task.instance_id);
        o.onEvent?.({ type: "task-start", id: task.instance_id, index, total: pending.length });
        const t0 = Date.now();
        const outcome = await processTaskWithRoom(
          task,
          { store, sandbox: sb, gitDir, baseImage, runDir: o.runDir, disk },
          o,
        );
        if (outcome === DISK_FULL) return; // aborted while waiting for room: the task stays pending
        if (outcome === "instance") {
          instances++;
          if (o.registry) await pushInstance(store, sb, task.instance_id, o.registry);
        } else rejected++;
        o.onEvent?.({
          type: "task-end",
          id: task.instance_id,
          outcome: outcome === "instance" ? "instance" : "rejected",
          reason: outcome === "instance" ? undefined : outcome,
          ms: Date.now() - t0,
        });
      },
      o.signal,
    );
  }
  const exported = exportRun(store, o.runDir);
  return { mined, built: pending.length, instances, rejected, export: exported };
}

/** Push a new instance's image; a refusal is logged and recorded (`swe-universe push` retries it). */
async function pushInstance(store: Store, sandbox: Sandbox, id: string, registry: string): Promise<void> {
  const inst = store.getInstance(id);
  if (!inst) return;
  const r = await pushImage(sandbox, inst.image, registry, {
    onRetry: (n, err) => log.warn({ id, attempt: n, err: err.split("\n")[0] }, "image push failed; retrying"),
  });
  recordPush(store, id, r);
  if (!r.ok)
    log.error(
      { id, err: r.error },
      "image push refused; the instance stays valid locally (retry: swe-universe push)",
    );
}

/** A task without tests of its own (mined as no_test_change) that the agent can build by writing tests. */
function writesTests(store: Store, t: Task, o: PipelineOptions): boolean {
  return (
    t.needs_generated_tests &&
    !!o.model &&
    (o.builder === "agent" || o.builder === "cascade") &&
    store.getRejection(t.instance_id)?.reason === "no_test_change"
  );
}
