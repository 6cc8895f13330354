/**
 * Job kinds, a table keyed by name: "build-task" (build and validate one task; what workers are for) and
 * "sleep" (a real but trivial job — sleep, append to a log file, return — for queue tests and benchmarks).
 * The same handlers serve the in-process queue and BullMQ workers: one path for a task wherever it runs.
 * A job returns plain records; the coordinator writes them into its store, so the store has one writer.
 */
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { SourceError } from "../mine/errors.ts";
import { isCloneUrl } from "../mine/git.ts";
import { GitSource } from "../mine/git-source.ts";
import type { Model } from "../model/model.ts";
import { modelFromConfig } from "../model/openai.ts";
import { HostShortage } from "../queue/bullmq-worker.ts";
import type { JobHandler } from "../queue/queue.ts";
import type { Environment, Task } from "../records/index.ts";
import { baseImageTag, ensureBaseImage } from "../sandbox/base-image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { SqliteStore } from "../store/sqlite.ts";
import type { Store } from "../store/store.ts";
import { InfraError } from "../util/causes.ts";
import { run } from "../util/exec.ts";
import type { DiskGuard } from "./disk.ts";
import { pushImage, registryRef } from "./push.ts";
import {
  type EnvironmentIndex,
  readBuildLogs,
  readTrajectory,
  runTask,
  type TaskOptions,
  type TaskResult,
} from "./task.ts";

export interface BuildJobData {
  task: Task;
  /** Where workers can reach the repository: a clone URL, or a path on a shared or local filesystem. */
  location: string;
  repoName: string;
  options: TaskOptions;
  /**
   * A clone URL to fetch from when `location` is a path this machine does not have (a worker elsewhere), and
   * to fetch missing commits from. The commits a task needs are its `base_commit` and `resolved_commit`.
   */
  cloneUrl?: string;
  /** Environments of the repository the coordinator knows (with their registry names): reuse starts here. */
  environments?: Environment[];
}

export type BuildJobResult = Omit<TaskResult, "outcome" | "detail"> & {
  outcome: "instance" | "rejected";
  /** The builder's trajectory (JSONL), when the job ran in another work folder than the run's. */
  trajectory?: string;
  /** Build logs of the task (`build-N.log` → text, tails), when the job ran in another work folder. */
  logs?: Record<string, string>;
  /** Wall time of the job on the worker. */
  ms?: number;
};

export interface WorkerContext {
  sandbox: Sandbox;
  /** Scratch folder of this worker (clones, build contexts, trajectories, its environment cache). */
  workDir: string;
  /** Paused on while short, and consulted when a build says ENOSPC. */
  disk?: DiskGuard;
  /**
   * What a full disk does to a job: the worker hands it back to the queue (other workers take it), the
   * in-process queue waits for room and runs it again here.
   */
  onDiskFull?: "hand-back" | "wait";
  /**
   * Environments known to the caller (the run's store, read only). Without it the worker keeps a cache of
   * its own environments in its work folder (worker.sqlite), so later jobs there reuse their images.
   */
  known?: Store;
  /** The agent's model; else one from SWEU_MODEL and friends. */
  model?: Model;
  /**
   * Whether this handler may hand a job back (a worker: another takes it) when the job's options ask for it
   * on a refused push (TaskOptions.pushRefused). The in-process queue never does: the image is here, the
   * instance is recorded as not pushed and the run pauses until the registry answers.
   */
  canHandBack?: boolean;
  /** How image pushes are retried (tests shorten it). */
  push?: { attempts?: number; backoffMs?: number };
}

/**
 * Environments a task may start from: the caller's or this worker's cache, those the job names (the
 * coordinator's, pushed by other workers), and those built meanwhile.
 */
function environmentIndex(
  known: Store | undefined,
  workDir: string,
): EnvironmentIndex & { learn(es: readonly Environment[] | undefined): void } {
  const recent = new Map<string, Environment>();
  // Opened at the first job, not before: a worker on a short disk writes nothing until it takes one.
  let cache: SqliteStore | undefined;
  const own = () => {
    cache ??= new SqliteStore(join(workDir, "worker.sqlite"));
    return cache;
  };
  return {
    nearest(repo, recipe) {
      const all = new Map<string, Environment>();
      for (const e of [...(known ?? own()).listEnvironments(repo), ...recent.values()])
        if (e.repo === repo && e.recipe === recipe) all.set(e.key, e);
      return [...all.values()].sort((a, b) => b.created_at.localeCompare(a.created_at));
    },
    remember(e) {
      recent.set(e.key, e);
      if (!known) own().putEnvironment(e);
    },
    learn(es) {
      for (const e of es ?? []) if (!recent.has(e.key) || e.image_name) recent.set(e.key, e);
    },
  };
}

/**
 * The repository of a job on this machine: `location` when it is a URL or a path here, else `cloneUrl`;
 * clones are cached per worker. The task's commits must be there: missing ones are fetched from the origin
 * (a cached clone older than the PR), and a repository that still lacks them is broken (an InfraError of
 * cause "source": the task stays pending, the repository is named).
 */
async function openSource(
  data: BuildJobData,
  workDir: string,
  sources: Map<string, Promise<GitSource>>,
): Promise<string> {
  const where =
    isCloneUrl(data.location) || existsSync(data.location) || !data.cloneUrl ? data.location : data.cloneUrl;
  const key = `${where}\n${data.repoName}`;
  let source = sources.get(key);
  if (!source) {
    source = GitSource.open(where, { repoName: data.repoName, cacheDir: join(workDir, "repos") });
    source.catch(() => sources.delete(key));
    sources.set(key, source);
  }
  const git = (
    await source.catch((e: unknown) => {
      // Not a repository here, or a URL that serves none: the source, not the task (unreachable: retried).
      if (e instanceof SourceError && e.kind === "input")
        throw new InfraError(
          `the source repository of ${data.repoName} cannot be used: ${e.message}`,
          "source",
        );
      throw e;
    })
  ).git;
  const { base_commit: base, resolved_commit: resolved } = data.task;
  const missing = async () => {
    const out: string[] = [];
    for (const sha of [base, resolved]) if (!(await git.parents(sha))) out.push(sha);
    return out;
  };
  let lacking = await missing();
  if (lacking.length && (isCloneUrl(where) || data.cloneUrl)) {
    const from = isCloneUrl(where) ? "origin" : data.cloneUrl!;
    await git.close(); // its object reader would not see what the fetch brings
    await run("git", ["--git-dir", git.dir, "fetch", "--quiet", from, ...lacking], { timeoutMs: 600_000 });
    lacking = await missing();
  }
  // The long-lived reader is not needed between jobs (and would keep the process alive after the last).
  await git.close();
  if (lacking.length)
    throw new InfraError(
      `the source repository of ${data.repoName} is broken: unable to find ${lacking.join(", ")} in ${where}`,
      "source",
    );
  return git.dir;
}

export function buildTaskHandler(ctx: WorkerContext): JobHandler {
  const sources = new Map<string, Promise<GitSource>>();
  let baseImage: Promise<string> | undefined;
  const workDir = resolve(ctx.workDir);
  const environments = environmentIndex(ctx.known, workDir);
  const model = ctx.model ?? modelFromConfig({});
  return async (raw, jc) => {
    const data = raw as BuildJobData;
    const started = Date.now();
    const gitDir = await openSource(data, workDir, sources);
    environments.learn(data.environments);
    baseImage ??= sharedBaseImage(ctx.sandbox, data.options.registry);
    baseImage.catch(() => {
      baseImage = undefined;
    });
    const tctx = {
      sandbox: ctx.sandbox,
      gitDir,
      baseImage: await baseImage,
      workDir,
      environments,
      model,
      diskShortage: () => ctx.disk?.shortage(),
      signal: jc.signal,
      push: ctx.push,
    };
    for (;;) {
      await ctx.disk?.ready(jc.signal);
      const r = await runTask(data.task, tctx, data.options);
      if (r.push && !r.push.ok && ctx.canHandBack && data.options.pushRefused === "hand-back")
        throw new HostShortage(`registry push refused on this worker: ${r.push.error}`, "registry");
      if (r.outcome !== "disk_full") return withTrajectory(r, workDir, data.task.instance_id, started);
      if (ctx.onDiskFull !== "wait" || !ctx.disk || jc.signal.aborted)
        throw new HostShortage(
          `no space left on device on this worker: the job goes back to the queue (${r.detail})`,
        );
      await ctx.disk.afterFull(r.detail ?? "", jc.signal);
    }
  };
}

/**
 * The base image, through the registry when the run has one: a worker that finds it there pulls it instead
 * of bootstrapping its own; one that made it pushes it for the others.
 */
async function sharedBaseImage(sandbox: Sandbox, registry: string | undefined): Promise<string> {
  const tag = baseImageTag();
  if (!registry || (await sandbox.imageExists(tag))) return ensureBaseImage(sandbox);
  if ((await sandbox.pull(registryRef(tag, registry), { as: tag, timeoutMs: 20 * 60_000 })).ok) return tag;
  const made = await ensureBaseImage(sandbox);
  await pushImage(sandbox, made, registry, { attempts: 1 });
  return made;
}

function withTrajectory(r: TaskResult, workDir: string, id: string, started: number): BuildJobResult {
  const { detail: _detail, ...rest } = r;
  return {
    ...(rest as BuildJobResult),
    trajectory: readTrajectory(workDir, id),
    logs: readBuildLogs(workDir, id),
    ms: Date.now() - started,
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
