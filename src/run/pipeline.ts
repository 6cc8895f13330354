/**
 * The coordinator: mine → hand the pending tasks to a queue → write the results → export. One path for a
 * task whether it runs here or on a worker: the in-process queue (default, `--workers N` at once) and
 * BullMQ (`--redis`) carry the same job to the same handler (src/run/jobs.ts), and this process is the
 * single writer of the run's records.
 */
import { type ExportResult, exportRun } from "../export/index.ts";
import type { Source } from "../mine/source.ts";
import type { Model } from "../model/model.ts";
import { MemoryQueue } from "../queue/memory.ts";
import type { JobQueue } from "../queue/queue.ts";
import type { Task } from "../records/index.ts";
import { ensureBaseImage } from "../sandbox/base-image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";
import { writeSynthReport } from "../synth/report.ts";
import { type SynthOptions, type SynthSummary, synthesize } from "../synth/synth.ts";
import { log } from "../util/log.ts";
import { DiskGuard } from "./disk.ts";
import { dispatchTasks } from "./dispatch.ts";
import type { PipelineEvent } from "./events.ts";
import { jobHandlers } from "./jobs.ts";
import { defaultLimits, limiters, limitSandbox } from "./limits.ts";
import { mineWithinBudget } from "./mine-budget.ts";
import type { TaskOptions } from "./task.ts";

export type { PipelineEvent } from "./events.ts";

/** The run's options: the task's own (they travel with every job) and the coordinator's. */
export interface PipelineOptions extends TaskOptions {
  runDir: string;
  /** Mining limits. */
  limit?: number;
  since?: string;
  maxFiles?: number;
  maxLines?: number;
  /** Only these instance ids. */
  only?: string[];
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
  /** The model of the agent builder and its judge (tasks run here; workers read SWEU_MODEL). */
  model?: Model;
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
  /** Then inject synthetic bugs into the validated environments (`run --synth`, src/synth/). */
  synth?: Omit<SynthOptions, "sandbox">;
  /** With a model: let it judge each PR's quality before building (default true; the rules always run). */
  qualityChecks?: boolean;
}

export interface PipelineSummary {
  mined: { tasks: number; rejections: number; skipped: number };
  built: number;
  instances: number;
  rejected: number;
  /** Tasks left pending because the machine failed (not the task). */
  failed: number;
  /** The repository is broken (git cannot read its objects): its tasks stay pending (src/run/dispatch.ts). */
  sourceError?: string;
  export: ExportResult;
  synth?: SynthSummary;
}

/** The guard of a run or a worker: its folder and the engine's storage, paused below `minFreeDisk`. */
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

/**
 * mine → build → validate → export. Every outcome is stored as it happens; a rerun picks up the tasks
 * that have none yet.
 */
export async function runPipeline(
  source: Source & { git?: { dir: string; originUrl?: () => Promise<string | undefined> } },
  store: Store,
  sandbox: Sandbox,
  o: PipelineOptions,
): Promise<PipelineSummary> {
  // The budget is the run's: a rerun of the same command finishes what the first mined (src/run/mine-budget.ts).
  const mined = await mineWithinBudget(source, store, {
    limit: o.limit,
    since: o.since,
    maxFiles: o.maxFiles,
    maxLines: o.maxLines,
    // The PR quality filter's LLM checks, when a model is configured (its rules always run).
    model: o.qualityChecks === false ? undefined : o.model,
  });
  o.onEvent?.({ type: "mined", tasks: mined.tasks, rejections: mined.rejections, skipped: mined.skipped });
  const gitDir = source.git?.dir;
  if (!gitDir) throw new Error(`source ${source.kind} has no local clone to build from`);
  store.setMeta(`git_dir:${source.repo}`, gitDir);
  // Workers on other machines fetch the repository from its origin when the location is a path of ours.
  const cloneUrl = o.queue ? await source.git?.originUrl?.() : undefined;
  const summary = await buildPending(store, sandbox, { ...o, repo: source.repo, gitDir, cloneUrl }, mined);
  if (!o.synth || o.signal?.aborted) return summary;
  const synth = await synthesize(store, sandbox, {
    runsPerState: o.runsPerState,
    testTimeoutMs: o.testTimeoutMs,
    loadProbeCpus: o.loadProbeCpus,
    skipProbes: o.skipProbes,
    model: o.model,
    signal: o.signal,
    ...o.synth,
    sandbox,
    gitDir,
  });
  writeSynthReport(store, o.runDir);
  return { ...summary, synth, export: exportRun(store, o.runDir) };
}

/** The in-process queue and its handlers: `workers` tasks at once, resources capped, waiting out a full disk. */
export async function localQueue(store: Store, sandbox: Sandbox, o: PipelineOptions): Promise<JobQueue> {
  await sandbox.reapOrphans();
  await ensureBaseImage(sandbox);
  const workers = o.workers ?? 1;
  const sb = workers > 1 ? limitSandbox(sandbox, limiters(defaultLimits(workers))) : sandbox;
  const handlers = jobHandlers({
    sandbox: sb,
    workDir: o.runDir,
    disk: await diskGuard(sandbox, o),
    onDiskFull: "wait",
    known: store,
    model: o.model,
  });
  // A job that throws (the engine, not the task) is tried once more before its task is left pending.
  return new MemoryQueue({ handlers, concurrency: workers, attempts: 2, backoffMs: 2000 });
}

/** Build and validate every task of the run that has no outcome yet, then export. */
export async function buildPending(
  store: Store,
  sandbox: Sandbox,
  o: PipelineOptions & { repo?: string; gitDir: string; cloneUrl?: string },
  mined: PipelineSummary["mined"] = { tasks: 0, rejections: 0, skipped: 0 },
): Promise<PipelineSummary> {
  const pending = store
    .listTasks(o.repo)
    .filter((t) => store.outcome(t.instance_id) === "task" || writesTests(store, t, o))
    .filter((t) => !o.only || o.only.includes(t.instance_id));
  let instances = 0;
  let rejected = 0;
  let failed = 0;
  let sourceError: string | undefined;
  if (pending.length) {
    for (const t of pending) if (writesTests(store, t, o)) store.deleteRejection(t.instance_id);
    const queue = o.queue ?? (await localQueue(store, sandbox, o));
    try {
      const s = await dispatchTasks(store, queue, pending, { ...o, location: o.location ?? o.gitDir });
      ({ instances, rejected, failed, sourceError } = s);
    } finally {
      if (!o.queue) await queue.close();
    }
  }
  const exported = exportRun(store, o.runDir);
  return {
    mined,
    built: pending.length,
    instances,
    rejected,
    failed,
    ...(sourceError ? { sourceError } : {}),
    export: exported,
  };
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
