import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { renderEvaluationScript } from "../harness/evaluation-script.ts";
import { type OutputParser, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { Environment, ReasonCode, StateRun, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { buildFailure, retryOnce, tail, transientNetworkFailure } from "./build-failure.ts";
import { normaliseInstruction, renderDockerfile } from "./dockerfile.ts";
import { recipesFor } from "./recipes/index.ts";
import { ensurePlanImages } from "./recipes/plan-images.ts";
import type { BuildPlan } from "./recipes/types.ts";
import { repoView, sanitisedCheckout } from "./repo.ts";
import { dependencyOverlay, environmentKeyFor, environmentTag, instanceDockerfile, once } from "./reuse.ts";
import { stageSiteCas } from "./site.ts";

export interface BuildOptions {
  sandbox: Sandbox;
  /** A local git repository that holds the task's commits. */
  gitDir: string;
  /** Scratch directory for this task (build context, logs). */
  workDir: string;
  baseImage: string;
  /** Parser factory: registry name → output parser. */
  parserFor: (name: string) => OutputParser;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  /** Most image builds to try across all plans and repairs. */
  maxAttempts?: number;
  /** Share environment images between tasks whose dependency manifests match (default true). */
  reuse?: boolean;
  /** Earlier environments of the repository, most recent first: tried before a full build. */
  nearestEnvironments?: (repo: string, recipe: string) => Environment[];
  onAttempt?: (a: Attempt) => void;
}

/** One try of one plan: what was built and how the two states behaved. Saved as the builder's trajectory. */
export interface Attempt {
  plan: string;
  stage: "build" | "resolved" | "buggy" | "done";
  ok: boolean;
  reason?: ReasonCode;
  detail: string;
  durationMs: number;
}

export interface BuildSuccess {
  ok: true;
  environment: Environment;
  /** The task's own image (the environment plus its thin instance layer); defaults to environment.image. */
  image?: string;
  /** How the image came to be: a full build, the task's key found, or the nearest environment updated. */
  reuse?: "full" | "exact" | "nearest" | "off";
  plan: BuildPlan;
  dockerfile: string;
  evaluationScript: string;
  /** The quick-check runs (one buggy, one resolved), from fresh containers of the built image. */
  runs: StateRun[];
  attempts: Attempt[];
  buildMs: number;
}
export interface BuildFailure {
  ok: false;
  reason: ReasonCode;
  detail: string;
  attempts: Attempt[];
}
export type BuildOutcome = BuildSuccess | BuildFailure;

/** Image name for a task's environment. */
export function imageTag(instanceId: string): string {
  return `localhost/sweu.eval.${instanceId.toLowerCase().replace(/[^a-z0-9._-]/g, "_")}:latest`;
}

/** Test files the test patch leaves in place (added or modified, not deleted). */
export function presentTestFiles(task: Task): string[] {
  const out: string[] = [];
  for (const m of task.test_patch.matchAll(/^\+\+\+ (?:b\/(.+)|\/dev\/null)$/gm)) if (m[1]) out.push(m[1]);
  return [...new Set(out)];
}

const NETWORK_ERRORS =
  /(getaddrinfo (ENOTFOUND|EAI_AGAIN)|Temporary failure in name resolution|Network is unreachable|Could not resolve host|Failed to establish a new connection|ECONNREFUSED .*:(80|443)\b)/;

/** Rank of failure reasons: when every plan fails, the furthest one along names the rejection. */
const RANK: ReasonCode[] = [
  "toolchain_unavailable",
  "no_test_command",
  "image_build_failed",
  "install_failed",
  "test_patch_apply_failed",
  "patch_apply_failed",
  "tests_timeout",
  "needs_network",
  "unparsed_output",
  "resolved_fails",
  "buggy_passes",
];

/**
 * The builder loop with the recipe policy: for each recipe and plan, build the image from its Dockerfile,
 * run the resolved state (must pass) and the buggy state (must fail); on failure let the recipe read the
 * output and revise the plan, else try the next plan.
 */
export async function buildEnvironment(task: Task, o: BuildOptions): Promise<BuildOutcome> {
  const attempts: Attempt[] = [];
  const started = Date.now();
  const note = (a: Attempt) => {
    attempts.push(a);
    o.onAttempt?.(a);
  };
  const fail = (reason: ReasonCode, detail: string): BuildFailure => ({
    ok: false,
    reason,
    detail,
    attempts,
  });

  const view = await repoView(o.gitDir, task.base_commit);
  const testFiles = presentTestFiles(task);
  const recipes = recipesFor(task.language, view);
  if (!recipes.length)
    return fail("unsupported_language", `no recipe recognises this ${task.language} repository`);

  const context = join(o.workDir, "context");
  await sanitisedCheckout(o.gitDir, task.base_commit, join(context, "testbed"));
  const caDir = stageSiteCas(context);
  const overlay = await dependencyOverlay(o.gitDir, task.resolved_commit, task.patch, view);
  const depsOverlay = Object.keys(overlay.files).length
    ? { dir: "deps-overlay", modified: overlay.modified, added: overlay.added }
    : undefined;
  for (const [f, content] of Object.entries(overlay.files)) {
    mkdirSync(dirname(join(context, "deps-overlay", f)), { recursive: true });
    writeFileSync(join(context, "deps-overlay", f), content);
  }
  const tag = imageTag(task.instance_id);
  const maxAttempts = o.maxAttempts ?? 6;
  let builds = 0;
  const doomed = new Set<string>();
  /** Plans built once more after a transient network failure (a reset download, a registry's 5xx). */
  const retried = new Set<string>();
  let best: { reason: ReasonCode; detail: string } = { reason: "no_test_command", detail: "no plan to try" };
  const consider = (reason: ReasonCode, detail: string) => {
    if (RANK.indexOf(reason) >= RANK.indexOf(best.reason)) best = { reason, detail };
  };

  for (const recipe of recipes) {
    const planned = await recipe.plans({ view, task, testFiles });
    if ("unavailable" in planned) {
      consider("toolchain_unavailable", `${recipe.name}: ${planned.unavailable}`);
      continue;
    }
    const queue = [...planned];
    while (queue.length && builds < maxAttempts) {
      const plan = queue.shift()!;
      const dockerfile = renderDockerfile({ baseImage: o.baseImage, plan, caDir, depsOverlay });
      const script = renderEvaluationScript(plan);
      const key = environmentKeyFor(dockerfile, view, overlay.files);
      const envImage = environmentTag(task.repo, key);
      // An instruction outside the install steps that failed for an earlier plan fails this one too.
      const doomedBy = dockerfile.split("\n").find((l) => doomed.has(normaliseInstruction(l)));
      if (doomedBy) {
        note({
          plan: plan.name,
          stage: "build",
          ok: false,
          reason: "image_build_failed",
          detail: `not built: ${JSON.stringify(tail(doomedBy, 300))} already failed for an earlier plan`,
          durationMs: 0,
        });
        continue;
      }
      builds++;
      const b = await buildImage({
        o,
        task,
        plan,
        dockerfile,
        context,
        tag,
        key,
        envImage,
        overlay: !!depsOverlay,
      });
      writeFileSync(join(o.workDir, `build-${builds}.log`), b.log);
      if (!b.ok) {
        const { reason, headline, instruction } = buildFailure(b, plan, o.buildTimeoutMs ?? BUILD_TIMEOUT_MS);
        // A transient network failure (reset, timeout, 5xx) may pass on the next plan; anything else will not.
        if (reason === "image_build_failed" && instruction && !transientNetworkFailure(b.log))
          doomed.add(normaliseInstruction(instruction));
        note({
          plan: plan.name,
          stage: "build",
          ok: false,
          reason,
          detail: `${headline}\n${tail(b.log)}`,
          durationMs: b.durationMs,
        });
        consider(reason, `${plan.name}: ${headline}\n${tail(b.log, 1500)}`);
        if (retryOnce(plan.name, b.log, retried)) {
          queue.unshift(plan); // the layers before the failed step come from the cache
          continue;
        }
        const revised = recipe.repair?.(plan, b.log);
        if (revised) queue.unshift(revised);
        continue;
      }
      const parse = o.parserFor(plan.parser);
      const timeoutMs = o.testTimeoutMs ?? 15 * 60_000;
      const runState = async (state: "buggy" | "resolved") => {
        const raw = await runStateRaw(o.sandbox, {
          image: tag,
          patch: state === "resolved" ? task.patch : undefined,
          testPatch: task.test_patch,
          evaluationScript: script,
          timeoutMs,
        });
        return { raw, run: toStateRun(state, raw, parse) };
      };
      const resolved = await runState("resolved");
      const verdict = judgeResolved(resolved.raw, resolved.run);
      if (verdict) {
        note({
          plan: plan.name,
          stage: "resolved",
          ok: false,
          reason: verdict,
          detail: tail(resolved.run.log_tail),
          durationMs: resolved.raw.durationMs,
        });
        consider(verdict, `${plan.name}: ${tail(resolved.run.log_tail, 1500)}`);
        // A patch that does not apply is the task's fault, not the plan's: no other plan can help.
        // So is a suite that hangs or needs the network: another install would not change that.
        if (
          verdict === "patch_apply_failed" ||
          verdict === "test_patch_apply_failed" ||
          verdict === "tests_timeout" ||
          verdict === "needs_network"
        ) {
          await o.sandbox.removeImage(tag).catch(() => {});
          return fail(
            verdict,
            tail(resolved.raw.apply === "applied" ? resolved.raw.output : resolved.raw.applyLog, 1500),
          );
        }
        if (verdict === "resolved_fails" || verdict === "unparsed_output") {
          const revised = recipe.repair?.(plan, resolved.raw.output);
          if (revised) queue.unshift(revised);
        }
        continue;
      }
      note({ plan: plan.name, stage: "resolved", ok: true, detail: "", durationMs: resolved.raw.durationMs });
      const buggy = await runState("buggy");
      if (buggy.raw.apply !== "applied") {
        note({
          plan: plan.name,
          stage: "buggy",
          ok: false,
          reason: "test_patch_apply_failed",
          detail: tail(buggy.raw.applyLog),
          durationMs: 0,
        });
        return fail("test_patch_apply_failed", tail(buggy.raw.applyLog, 1500));
      }
      if (buggy.raw.exitCode === 0 && !buggy.raw.timedOut) {
        note({
          plan: plan.name,
          stage: "buggy",
          ok: false,
          reason: "buggy_passes",
          detail: tail(buggy.run.log_tail),
          durationMs: buggy.raw.durationMs,
        });
        consider("buggy_passes", `${plan.name}: the tests pass without the fix`);
        continue;
      }
      note({
        plan: plan.name,
        stage: "done",
        ok: true,
        detail: `environment ${key} (${b.reuse})`,
        durationMs: buggy.raw.durationMs,
      });
      const size = await o.sandbox.imageSize(tag);
      const shared = b.reuse !== "off";
      const environment: Environment = {
        key,
        repo: task.repo,
        language: plan.language,
        base_image: o.baseImage,
        dockerfile,
        image: shared ? envImage : tag,
        recipe: plan.name,
        toolchain: plan.toolchainVersions,
        test_command: plan.test,
        parser: plan.parser,
        image_size_bytes: (shared ? await o.sandbox.imageSize(envImage) : size) ?? size,
        created_at: new Date().toISOString(),
      };
      mkdirSync(o.workDir, { recursive: true });
      return {
        ok: true,
        environment,
        image: tag,
        reuse: b.reuse,
        plan,
        dockerfile,
        evaluationScript: script,
        runs: [buggy.run, resolved.run],
        attempts,
        buildMs: Date.now() - started,
      };
    }
  }
  await o.sandbox.removeImage(tag).catch(() => {});
  if (builds >= maxAttempts && best.reason !== "buggy_passes")
    return fail("builder_exhausted", `${builds} builds: ${best.detail}`);
  return fail(best.reason, best.detail);
}

const BUILD_TIMEOUT_MS = 30 * 60_000;

export { buildFailure, retryOnce, tail, transientNetworkFailure };

/** Why a resolved-state run is not a pass, or undefined when it is one. */
export function judgeResolved(
  raw: Awaited<ReturnType<typeof runStateRaw>>,
  run: StateRun,
): ReasonCode | undefined {
  if (raw.apply === "patch_failed") return "patch_apply_failed";
  if (raw.apply === "test_patch_failed") return "test_patch_apply_failed";
  if (raw.timedOut) return "tests_timeout";
  if (raw.exitCode !== 0) return NETWORK_ERRORS.test(raw.output) ? "needs_network" : "resolved_fails";
  if (!run.parsed) return "unparsed_output";
  return undefined;
}

interface ImageBuild {
  o: BuildOptions;
  task: Task;
  plan: BuildPlan;
  dockerfile: string;
  context: string;
  tag: string;
  key: string;
  envImage: string;
  /** The install reads dependency files from the resolved commit: no shortcut through another environment. */
  overlay: boolean;
}

type ImageResult = Awaited<ReturnType<Sandbox["build"]>> & { reuse: NonNullable<BuildSuccess["reuse"]> };

/**
 * Make the task's image. With reuse: the environment image for the key (built once, or made from the
 * nearest earlier environment by re-running the install on top), then the thin instance layer.
 * Without: the full Dockerfile straight into the task's tag.
 */
async function buildImage(x: ImageBuild): Promise<ImageResult> {
  const { o, task, plan, context } = x;
  // Local images the plan copies from (a toolchain made from a host directory) exist before the build.
  const pre = await ensurePlanImages(o.sandbox, plan);
  if (!pre.ok) return { ok: false, log: pre.log, durationMs: 0, timedOut: false, reuse: "off" };
  const timeoutMs = o.buildTimeoutMs ?? BUILD_TIMEOUT_MS;
  const labels = { "sweu.instance": task.instance_id };
  const build = (tag: string, dockerfile: string, extra: Record<string, string> = {}) => {
    writeFileSync(join(context, "Dockerfile"), dockerfile);
    return o.sandbox.build({
      tag,
      dockerfile,
      contextDir: context,
      timeoutMs,
      network: true,
      labels: { ...labels, ...extra },
    });
  };
  if (o.reuse === false) return { ...(await build(x.tag, x.dockerfile)), reuse: "off" };

  let log = "";
  let how: ImageResult["reuse"] = "exact";
  const env = await once(x.key, async () => {
    if (await o.sandbox.imageExists(x.envImage)) return { ok: true as const };
    const envLabels = { "sweu.environment": x.key, "sweu.recipe": plan.name };
    for (const near of x.overlay ? [] : (o.nearestEnvironments?.(task.repo, plan.name) ?? [])) {
      if (near.key === x.key || !(await o.sandbox.imageExists(near.image))) continue;
      const r = await build(x.envImage, instanceDockerfile(near.image, plan.install), envLabels);
      log += `[sweu] updating environment ${near.key} for ${x.key}\n${r.log}\n`;
      if (r.ok) {
        how = "nearest";
        return { ok: true as const };
      }
      break;
    }
    how = "full";
    const r = await build(x.envImage, x.dockerfile, envLabels);
    log += r.log;
    return r.ok ? { ok: true as const } : { ok: false as const, r };
  });
  if (!env.ok) return { ...env.r, log, reuse: how };
  const r = await build(x.tag, instanceDockerfile(x.envImage, plan.refresh ?? []));
  return { ...r, log: `${log}${r.log}`, reuse: how };
}
