/**
 * Job kinds, a table keyed by name: "build-task" (build and validate one task; what workers are for) and
 * "sleep" (a real but trivial job — sleep, append to a log file, return — for queue tests and benchmarks).
 * A job returns plain records; the coordinator writes them into its store, so the store has one writer.
 */
import { appendFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { BuilderKind } from "../builder/agent/cascade.ts";
import { GitSource } from "../mine/git-source.ts";
import { modelFromConfig } from "../model/openai.ts";
import { HostShortage } from "../queue/bullmq.ts";
import type { JobHandler } from "../queue/queue.ts";
import type { Environment, Instance, Rejection, Task } from "../records/index.ts";
import { ensureBaseImage } from "../sandbox/base-image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { SqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { DISK_FULL, type PipelineOptions, processTask } from "./pipeline.ts";
import { type PushResult, pushImage, recordPush } from "./push.ts";

/** The options of a task build that travel with the job (plain data). */
export interface TaskJobOptions {
  runsPerState?: number;
  maxAttempts?: number;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  skipProbes?: boolean;
  loadProbeCpus?: number;
  builder?: BuilderKind;
  registry?: string;
}

export interface BuildJobData {
  task: Task;
  /** Where workers can reach the repository: a clone URL, or a path on a shared or local filesystem. */
  location: string;
  repoName: string;
  options: TaskJobOptions;
}

export interface BuildJobResult {
  outcome: "instance" | "rejected";
  environment?: Environment;
  instance?: Instance;
  rejection?: Rejection;
  push?: PushResult;
}

export function pickJobOptions(o: PipelineOptions & { registry?: string }): TaskJobOptions {
  return {
    runsPerState: o.runsPerState,
    maxAttempts: o.maxAttempts,
    buildTimeoutMs: o.buildTimeoutMs,
    testTimeoutMs: o.testTimeoutMs,
    skipProbes: o.skipProbes,
    loadProbeCpus: o.loadProbeCpus,
    builder: o.builder,
    registry: o.registry,
  };
}

/** Write what a build job returned; one transaction, idempotent (every write is an upsert by id). */
export function applyBuildResult(store: Store, r: BuildJobResult): void {
  store.transaction(() => {
    if (r.environment) store.putEnvironment(r.environment);
    if (r.instance) store.putInstance(r.instance);
    else if (r.rejection) store.putRejection(r.rejection);
    if (r.push && r.instance) recordPush(store, r.instance.instance_id, r.push);
  });
}

export interface WorkerContext {
  sandbox: Sandbox;
  /** Scratch folder of this worker (build contexts, trajectories). */
  workDir: string;
}

export function buildTaskHandler(ctx: WorkerContext): JobHandler {
  const sources = new Map<string, Promise<GitSource>>();
  let baseImage: Promise<string> | undefined;
  let store: SqliteStore | undefined;
  return async (raw, jc) => {
    const data = raw as BuildJobData;
    const key = `${data.location}\n${data.repoName}`;
    let source = sources.get(key);
    if (!source) {
      source = GitSource.open(data.location, {
        repoName: data.repoName,
        cacheDir: join(ctx.workDir, "repos"),
      });
      source.catch(() => sources.delete(key));
      sources.set(key, source);
    }
    const gitDir = (await source).git.dir;
    baseImage ??= ensureBaseImage(ctx.sandbox);
    baseImage.catch(() => {
      baseImage = undefined;
    });
    // A worker-local store: its environments let later jobs of this worker reuse images; only the records
    // of this task go back to the coordinator.
    store ??= new SqliteStore(join(ctx.workDir, "worker.sqlite"));
    {
      const o = data.options;
      const outcome = await processTask(
        data.task,
        { store, sandbox: ctx.sandbox, gitDir, baseImage: await baseImage, runDir: resolve(ctx.workDir) },
        { ...o, runDir: resolve(ctx.workDir), signal: jc.signal, model: modelFromConfig({}) },
      );
      const id = data.task.instance_id;
      if (outcome === DISK_FULL)
        throw new HostShortage("no space left on device on this worker: the job goes back to the queue");
      const instance = outcome === "instance" ? store.getInstance(id) : undefined;
      const result: BuildJobResult = {
        outcome: instance ? "instance" : "rejected",
        environment: instance && store.getEnvironment(instance.environment_key),
        instance,
        rejection: instance ? undefined : store.getRejection(id),
      };
      if (instance && o.registry) result.push = await pushImage(ctx.sandbox, instance.image, o.registry);
      return result;
    }
  };
}

export interface SleepJobData {
  ms: number;
  /** Append "start <id> <pid>" and "end <id> <pid>" lines here. */
  log?: string;
}

/** Sleep (abortable), log, return the pid that ran the job. */
export const sleepHandler: JobHandler = async (raw, jc) => {
  const d = raw as SleepJobData;
  const line = (what: string) => d.log && appendFileSync(d.log, `${what} ${jc.id} ${process.pid}\n`);
  line("start");
  await new Promise<void>((res, rej) => {
    const onAbort = () => {
      clearTimeout(t);
      rej(new Error("aborted"));
    };
    const t = setTimeout(() => {
      jc.signal.removeEventListener("abort", onAbort);
      res();
    }, d.ms);
    jc.signal.addEventListener("abort", onAbort, { once: true });
  });
  line("end");
  return { pid: process.pid };
};

export function jobHandlers(ctx: WorkerContext): Record<string, JobHandler> {
  mkdirSync(ctx.workDir, { recursive: true });
  return { "build-task": buildTaskHandler(ctx), sleep: sleepHandler };
}
