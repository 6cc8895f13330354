/**
 * One task, built and validated, wherever it runs: in this process (the in-process queue) or on a worker
 * (BullMQ). It returns plain records for the coordinator to write; it writes no store of the run's. The
 * coordinator is the single writer (src/run/dispatch.ts).
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Budget } from "../builder/agent/loop.ts";
import type { BuildOutcome } from "../builder/outcome.ts";
import { type BuilderKind, buildTask } from "../builder/policies.ts";
import { parserFor } from "../harness/parse-run.ts";
import type { Model } from "../model/model.ts";
import type { Environment, Instance, ReasonCode, Rejection, Stage, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { settleStatement } from "../statement/settle.ts";
import { causeOf, InfraError, saysDiskFull, saysSourceBroken } from "../util/causes.ts";
import { log } from "../util/log.ts";
import { validate } from "../validate/validate.ts";
import { type PushResult, pushImage, registryRef } from "./push.ts";

/** The options of one task's build and validation: plain data that travels with a queued job. */
export interface TaskOptions {
  runsPerState?: number;
  maxAttempts?: number;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  /** Skip the probes that cost container runs of their own: hacking, leak and load (faster, weaker). */
  skipProbes?: boolean;
  /** CPU quota of the load probe (default 0.25); 0 turns it off, as does skipProbes. */
  loadProbeCpus?: number;
  /** Share environment images between tasks whose dependency manifests match (default true). */
  reuse?: boolean;
  /** recipe (default), agent, or cascade (recipes first, the agent where they fail); see src/builder/policies.ts. */
  builder?: BuilderKind;
  agentBudget?: Partial<Budget>;
  /** Push validated images to HOST/PREFIX; refusals are recorded, not fatal. */
  registry?: string;
  /**
   * What a refused push does on a worker: "record" (default: the instance is kept as not pushed, for
   * `swe-universe push` on the machine that has the image) or "hand-back" (the job goes back to the queue
   * and the worker pauses: a universe run's dataset names only registry images).
   */
  pushRefused?: "record" | "hand-back";
  /** Keep the scratch build context of each task (default: removed once the task ends). */
  keepWork?: boolean;
  /**
   * Let the model write problem statements and judge them for leaks (default true when a model is
   * configured); false: statements are kept or templated and checked by the rules only (src/statement/).
   */
  writeStatements?: boolean;
}

/**
 * Every key of TaskOptions, once: job options are derived from the pipeline options with this list, so a
 * new task option travels with queued jobs without anyone copying it by hand (the type check below fails
 * until it is listed).
 */
export const TASK_OPTION_KEYS = [
  "runsPerState",
  "maxAttempts",
  "buildTimeoutMs",
  "testTimeoutMs",
  "skipProbes",
  "loadProbeCpus",
  "reuse",
  "builder",
  "agentBudget",
  "registry",
  "pushRefused",
  "keepWork",
  "writeStatements",
] as const satisfies readonly (keyof TaskOptions)[];
type Unlisted = Exclude<keyof TaskOptions, (typeof TASK_OPTION_KEYS)[number]>;
const everyKeyListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyKeyListed;

/** The task options of a larger options object (the pipeline's), key by key. */
export function taskOptionsOf(o: TaskOptions): TaskOptions {
  const out: Record<string, unknown> = {};
  for (const k of TASK_OPTION_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out as TaskOptions;
}

/** Earlier environments a task may start from, most recent first; and the ones built here meanwhile. */
export interface EnvironmentIndex {
  nearest(repo: string, recipe: string): Environment[];
  remember(e: Environment): void;
}

export interface TaskContext {
  sandbox: Sandbox;
  gitDir: string;
  baseImage: string;
  /** Where work/<id>/ and trajectories/<id>.jsonl go (the run folder here, the work folder on a worker). */
  workDir: string;
  environments: EnvironmentIndex;
  /** The model of the agent builder and its judge. */
  model?: Model;
  /** Whether the disk is short now, e.g. "412 MiB free on …" (confirms a build that failed saying ENOSPC). */
  diskShortage?: () => string | undefined;
  signal?: AbortSignal;
  /** How image pushes are retried (default: 3 attempts, 2 s backoff). */
  push?: { attempts?: number; backoffMs?: number };
  /** Environment images shared between machines (set from the registry; tests may give their own). */
  images?: { fetch(tag: string, ref?: string): Promise<boolean> };
}

/** What a task came to: records for the coordinator, or a full disk (nothing to record; try again). */
export interface TaskResult {
  outcome: "instance" | "rejected" | "disk_full";
  environment?: Environment;
  /** Write `environment` only where its key has no record yet (a rebuild from scratch keeps the shared one's). */
  environmentIfAbsent?: boolean;
  instance?: Instance;
  rejection?: Rejection;
  push?: PushResult;
  /** Why the disk was full, when it was. */
  detail?: string;
}

function rejection(task: Task, stage: Stage, reason: ReasonCode, detail: string): TaskResult {
  const r: Rejection = {
    id: task.instance_id,
    repo: task.repo,
    number: task.number,
    stage,
    reason,
    detail: detail.slice(0, 8000),
    at: new Date().toISOString(),
  };
  return { outcome: "rejected", rejection: r };
}

/** A build that failed because the disk is full: the engine said so, or the install said so and it is so. */
function buildDiskFull(b: BuildOutcome, ctx: TaskContext): string | undefined {
  if (b.ok) return undefined;
  if (b.cause === "disk_full") return b.detail;
  const atBuild = b.reason === "install_failed" || b.reason === "image_build_failed";
  const short = atBuild && saysDiskFull(b.detail) ? ctx.diskShortage?.() : undefined;
  return short ? `${short}: ${b.detail.split("\n")[0]}` : undefined;
}

/**
 * Build and validate one task. Its own faults end as a rejection; a full disk ends as `disk_full` (nothing
 * recorded); other failures of the machine (the engine, the clone) are thrown: the queue tries the job again
 * and the task stays pending, never rejected for them.
 */
export async function runTask(task: Task, ctx: TaskContext, o: TaskOptions): Promise<TaskResult> {
  const workDir = join(ctx.workDir, "work", task.instance_id);
  const trajectory = join(ctx.workDir, "trajectories", `${task.instance_id}.jsonl`);
  const append = (e: object) =>
    appendFileSync(trajectory, `${JSON.stringify({ ...e, at: new Date().toISOString() })}\n`);
  try {
    mkdirSync(workDir, { recursive: true });
    mkdirSync(join(ctx.workDir, "trajectories"), { recursive: true });
    rmSync(trajectory, { force: true });
    return await buildAndValidate(task, ctx, o, { workDir, append });
  } catch (e) {
    if (causeOf(e) === "disk_full") return { outcome: "disk_full", detail: (e as Error).message };
    // git could not read the repository's own objects: the source is broken, not the task.
    const msg = e instanceof Error ? e.message : String(e);
    if (!causeOf(e) && saysSourceBroken(msg))
      throw new InfraError(
        `the source repository of ${task.repo} is broken: ${firstGitError(msg)}`,
        "source",
      );
    throw e;
  } finally {
    if (!o.keepWork) rmSync(join(workDir, "context"), { recursive: true, force: true });
  }
}

async function buildAndValidate(
  task: Task,
  ctx: TaskContext,
  o: TaskOptions,
  w: { workDir: string; append: (e: object) => void },
): Promise<TaskResult> {
  for (let pass = 0; ; pass++) {
    const b = await buildTask(task, {
      builder: o.builder ?? "recipe",
      model: ctx.model,
      budget: o.agentBudget,
      signal: ctx.signal,
      onAgentEvent: w.append,
      sandbox: ctx.sandbox,
      gitDir: ctx.gitDir,
      workDir: w.workDir,
      baseImage: ctx.baseImage,
      parserFor,
      maxAttempts: o.maxAttempts,
      buildTimeoutMs: o.buildTimeoutMs,
      testTimeoutMs: o.testTimeoutMs,
      onAttempt: w.append,
      reuse: pass === 0 ? o.reuse : false,
      nearestEnvironments: (repo, recipe) => ctx.environments.nearest(repo, recipe),
      images: ctx.images ?? (o.registry ? sharedImages(ctx.sandbox, o.registry) : undefined),
    });
    const full = buildDiskFull(b, ctx);
    if (full) return { outcome: "disk_full", detail: full };
    if (!b.ok) return rejection(task, "build", b.reason, b.detail);
    ctx.environments.remember(b.built.environment);
    const v = await validate(b.built, {
      sandbox: ctx.sandbox,
      parserFor,
      runsPerState: o.runsPerState,
      testTimeoutMs: o.testTimeoutMs,
      skipProbes: o.skipProbes,
      loadProbeCpus: o.skipProbes ? 0 : o.loadProbeCpus,
      // The LLM judge of the verifier on every instance when a model is configured, whoever built it.
      judge: ctx.model,
      signal: ctx.signal,
    });
    if (v.ok) {
      const s = await settleStatement(v.instance, task, {
        model: o.writeStatements === false ? undefined : ctx.model,
        signal: ctx.signal,
      });
      if (s.ok)
        return {
          ...(await validated(s.instance, b.built.environment, ctx, o)),
          environmentIfAbsent: pass > 0,
        };
      await ctx.sandbox.removeImage(b.built.image).catch(() => {});
      return rejection(task, "validate", s.reason, s.detail);
    }
    // The task's own image only: a shared environment image stays for the next tasks.
    await ctx.sandbox.removeImage(b.built.image).catch(() => {});
    // An environment built at another commit (tasks out of order, --retry, workers) can carry that
    // commit's build output, and with it the fix: build this task's environment from scratch once.
    const shared = b.built.reuse === "exact" || b.built.reuse === "nearest";
    if (v.reason === "fix_leaked" && shared && pass === 0) {
      w.append({
        stage: "leak",
        detail: `${v.detail.split("\n")[0]}; building without the shared environment`,
      });
      continue;
    }
    return rejection(task, "validate", v.reason, v.detail);
  }
}

async function validated(
  inst: Instance,
  env: Environment,
  ctx: TaskContext,
  o: TaskOptions,
): Promise<TaskResult> {
  const r: TaskResult = { outcome: "instance", instance: inst, environment: env };
  if (o.registry) {
    const onRetry = (n: number, err: string) =>
      log.warn({ id: inst.instance_id, attempt: n, err: err.split("\n")[0] }, "image push failed; retrying");
    r.push = await pushImage(ctx.sandbox, inst.image, o.registry, { onRetry, ...ctx.push });
    if (r.push.ok) r.instance = { ...inst, image_name: r.push.ref };
    // The environment image too (its layers went up with the instance's): other machines start from it.
    if (r.push.ok && env.image !== inst.image) {
      const e = await pushImage(ctx.sandbox, env.image, o.registry, { onRetry, ...ctx.push });
      if (e.ok) r.environment = { ...env, image_name: e.ref };
      else log.warn({ id: inst.instance_id, err: e.error }, "environment image push refused");
    }
  }
  return r;
}

/** Environment images through a registry: pulled under their local tag when another machine pushed them. */
function sharedImages(sandbox: Sandbox, registry: string): NonNullable<TaskContext["images"]> {
  return {
    async fetch(tag, ref) {
      const r = await sandbox.pull(ref ?? registryRef(tag, registry), { as: tag, timeoutMs: 20 * 60_000 });
      if (r.ok) log.info({ tag }, "environment pulled from the registry");
      return r.ok;
    },
  };
}

/** The line of a git error that names what is missing. */
function firstGitError(msg: string): string {
  const line = msg.split("\n").find((l) => saysSourceBroken(l)) ?? msg.split("\n")[0] ?? "";
  // git's own words, without the command line that carried them.
  const at = Math.max(line.lastIndexOf("fatal: "), line.lastIndexOf("error: "));
  return (at >= 0 ? line.slice(at) : line).trim().slice(0, 300);
}

/** The trajectory a task wrote, to send back with its result when it ran elsewhere. */
export function readTrajectory(workDir: string, id: string): string | undefined {
  try {
    return readFileSync(join(workDir, "trajectories", `${id}.jsonl`), "utf8");
  } catch {
    return undefined;
  }
}

/** A task's build logs (their last 256 KiB each), to send back with its result when it ran elsewhere. */
export function readBuildLogs(workDir: string, id: string): Record<string, string> | undefined {
  const dir = join(workDir, "work", id);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^build-\d+\.log$/.test(n));
  } catch {
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const n of names) out[n] = readFileSync(join(dir, n), "utf8").slice(-256 * 1024);
  return names.length ? out : undefined;
}
