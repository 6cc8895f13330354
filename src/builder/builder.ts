/**
 * The recipe policy (DESIGN §5): for each recipe and plan, build the image from its Dockerfile and run the
 * build gate on it (the resolved state must pass, the buggy state fail); on failure let the recipe read
 * the output and revise the plan, else try the next plan. Returns a builder-neutral Built, or why not.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { evidence, GATES, runGate } from "../checks/gate.ts";
import { renderEvaluationScript, renderListScript } from "../harness/evaluation-script.ts";
import { presentTestFiles } from "../harness/run-state.ts";
import type { Built, Environment, ReasonCode, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { tail } from "../util/text.ts";
import { buildFailure, retryOnce, transientNetworkFailure } from "./build-failure.ts";
import { normaliseInstruction, renderDockerfile } from "./dockerfile.ts";
import type { Attempt, BuildFailure, BuildOptions, BuildOutcome, BuildSuccess } from "./outcome.ts";
import { recipesFor } from "./recipes/index.ts";
import { ensurePlanImages } from "./recipes/plan-images.ts";
import type { BuildPlan, Recipe } from "./recipes/types.ts";
import { type RepoView, repoView, sanitisedCheckout } from "./repo.ts";
import {
  type dependencyOverlay,
  environmentKeyFor,
  environmentTag,
  instanceDockerfile,
  OVERLAY_DIR,
  once,
  stageDependencyOverlay,
} from "./reuse.ts";
import { stageSiteCas } from "./site.ts";

export { judgeResolved } from "../checks/quick.ts";
export type { Attempt, BuildFailure, BuildOptions, BuildOutcome, BuildSuccess } from "./outcome.ts";
export { buildFailure, presentTestFiles, retryOnce, tail, transientNetworkFailure };

/** Image name for a task's environment. */
export function imageTag(instanceId: string): string {
  return `localhost/sweu.eval.${instanceId.toLowerCase().replace(/[^a-z0-9._-]/g, "_")}:latest`;
}

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

/** Failures of the quick check no other plan can mend: the task's own, or a suite that hangs or needs the network. */
const FINAL: ReadonlySet<ReasonCode> = new Set([
  "patch_apply_failed",
  "test_patch_apply_failed",
  "tests_timeout",
  "needs_network",
]);

const BUILD_TIMEOUT_MS = 30 * 60_000;

/** What one task's build works with: its staged context and the running tally across plans. */
interface Run {
  task: Task;
  o: BuildOptions;
  view: RepoView;
  context: string;
  caDir?: string;
  overlay: Awaited<ReturnType<typeof dependencyOverlay>>;
  depsOverlay?: { dir: string; modified: string[]; added: string[] };
  tag: string;
  attempts: Attempt[];
  builds: number;
  /** Normalised instructions outside the install steps that failed: a later plan holding one fails too. */
  doomed: Set<string>;
  /** Plans built once more after a transient network failure. */
  retried: Set<string>;
  best: { reason: ReasonCode; detail: string };
  started: number;
}

function note(r: Run, a: Attempt): void {
  r.attempts.push(a);
  r.o.onAttempt?.(a);
}

function consider(r: Run, reason: ReasonCode, detail: string): void {
  if (RANK.indexOf(reason) >= RANK.indexOf(r.best.reason)) r.best = { reason, detail };
}

const failure = (r: Run, reason: ReasonCode, detail: string): BuildFailure => ({
  ok: false,
  reason,
  detail,
  attempts: r.attempts,
});

/** Stage the build context: the sanitised checkout, site CAs, the dependency files the fix changes. */
async function stage(task: Task, o: BuildOptions): Promise<Run> {
  const view = await repoView(o.gitDir, task.base_commit);
  const context = join(o.workDir, "context");
  await sanitisedCheckout(o.gitDir, task.base_commit, join(context, "testbed"));
  const caDir = stageSiteCas(context);
  const x = { resolvedCommit: task.resolved_commit, patch: task.patch, view };
  const { overlay } = await stageDependencyOverlay(o.gitDir, x, context);
  const depsOverlay = Object.keys(overlay.files).length
    ? { dir: OVERLAY_DIR, modified: overlay.modified, added: overlay.added }
    : undefined;
  return {
    task,
    o,
    view,
    context,
    caDir,
    overlay,
    depsOverlay,
    tag: imageTag(task.instance_id),
    attempts: [],
    builds: 0,
    doomed: new Set(),
    retried: new Set(),
    best: { reason: "no_test_command", detail: "no plan to try" },
    started: Date.now(),
  };
}

/** One plan tried: a Built, a final failure, or the plans to try next (a revision first). */
type PlanStep = { done: BuildSuccess } | { final: BuildFailure } | { next: BuildPlan[] };

export async function buildEnvironment(task: Task, o: BuildOptions): Promise<BuildOutcome> {
  const recipes = recipesFor(task.language, await repoView(o.gitDir, task.base_commit));
  if (!recipes.length)
    return {
      ok: false,
      reason: "unsupported_language",
      detail: `no recipe recognises this ${task.language} repository`,
      attempts: [],
    };
  const r = await stage(task, o);
  const maxAttempts = o.maxAttempts ?? 6;
  for (const recipe of recipes) {
    const planned = await recipe.plans({ view: r.view, task, testFiles: presentTestFiles(task) });
    if ("unavailable" in planned) {
      consider(r, "toolchain_unavailable", `${recipe.name}: ${planned.unavailable}`);
      continue;
    }
    const queue = [...planned];
    while (queue.length && r.builds < maxAttempts) {
      const step = await tryPlan(r, recipe, queue.shift()!);
      if ("done" in step) return step.done;
      if ("final" in step) return step.final;
      queue.unshift(...step.next);
    }
  }
  await o.sandbox.removeImage(r.tag).catch(() => {});
  if (r.builds >= maxAttempts && r.best.reason !== "buggy_passes")
    return failure(r, "builder_exhausted", `${r.builds} builds: ${r.best.detail}`);
  return failure(r, r.best.reason, r.best.detail);
}

/** Build one plan's image and run the build gate on it. */
async function tryPlan(r: Run, recipe: Recipe, plan: BuildPlan): Promise<PlanStep> {
  const dockerfile = renderDockerfile({
    baseImage: r.o.baseImage,
    plan,
    caDir: r.caDir,
    depsOverlay: r.depsOverlay,
  });
  // An instruction outside the install steps that failed for an earlier plan fails this one too.
  const doomedBy = dockerfile.split("\n").find((l) => r.doomed.has(normaliseInstruction(l)));
  if (doomedBy) {
    const detail = `not built: ${JSON.stringify(tail(doomedBy, 300))} already failed for an earlier plan`;
    note(r, {
      plan: plan.name,
      stage: "build",
      ok: false,
      reason: "image_build_failed",
      detail,
      durationMs: 0,
    });
    return { next: [] };
  }
  r.builds++;
  const key = environmentKeyFor(dockerfile, r.view, r.overlay.files);
  const envImage = environmentTag(r.task.repo, key);
  const b = await buildImage({ r, plan, dockerfile, key, envImage });
  writeFileSync(join(r.o.workDir, `build-${r.builds}.log`), b.log);
  if (!b.ok) return buildFailed(r, recipe, plan, b);
  const script = renderEvaluationScript(plan);
  const e = evidence({
    task: r.task,
    testFiles: presentTestFiles(r.task),
    evaluationScript: script,
    parser: plan.parser,
    image: r.tag,
  });
  const g = await runGate(GATES.build, e, {
    sandbox: r.o.sandbox,
    parserFor: r.o.parserFor,
    testTimeoutMs: r.o.testTimeoutMs ?? 15 * 60_000,
  });
  const f = g.failure;
  if (!f || f.state === "buggy")
    note(r, { plan: plan.name, stage: "resolved", ok: true, detail: "", durationMs: 0 });
  if (!f)
    return {
      done: await success(r, plan, {
        dockerfile,
        script,
        key,
        envImage,
        reuse: b.reuse,
        runs: e.runs,
        pulled: b.pulled,
      }),
    };
  const at = f.state === "buggy" ? "buggy" : "resolved";
  note(r, {
    plan: plan.name,
    stage: at,
    ok: false,
    reason: f.reason,
    detail: tail(f.run?.log_tail ?? f.detail),
    durationMs: f.run?.duration_ms ?? 0,
  });
  if (f.state === "buggy" && f.fatal) return { final: failure(r, f.reason, f.detail) };
  if (FINAL.has(f.reason)) {
    await r.o.sandbox.removeImage(r.tag).catch(() => {});
    return { final: failure(r, f.reason, f.detail) };
  }
  consider(
    r,
    f.reason,
    f.reason === "buggy_passes"
      ? `${plan.name}: the tests pass without the fix`
      : `${plan.name}: ${tail(f.run?.log_tail ?? f.detail, 1500)}`,
  );
  const revise = f.reason === "resolved_fails" || f.reason === "unparsed_output";
  const revised = revise ? recipe.repair?.(plan, f.output ?? "") : undefined;
  return { next: revised ? [revised] : [] };
}

/** A failed image build: named by where it stopped; retried once if the network hiccupped, else repaired. */
function buildFailed(r: Run, recipe: Recipe, plan: BuildPlan, b: ImageResult): PlanStep {
  const { reason, headline, instruction } = buildFailure(b, plan, r.o.buildTimeoutMs ?? BUILD_TIMEOUT_MS);
  // The engine's disk is full: no plan can build now, and the task is not at fault.
  if (b.cause === "disk_full")
    return { final: { ...failure(r, reason, `${headline}\n${tail(b.log, 1500)}`), cause: "disk_full" } };
  // A transient network failure (reset, timeout, 5xx) may pass on the next plan; anything else will not.
  if (reason === "image_build_failed" && instruction && !transientNetworkFailure(b.log))
    r.doomed.add(normaliseInstruction(instruction));
  note(r, {
    plan: plan.name,
    stage: "build",
    ok: false,
    reason,
    detail: `${headline}\n${tail(b.log)}`,
    durationMs: b.durationMs,
  });
  consider(r, reason, `${plan.name}: ${headline}\n${tail(b.log, 1500)}`);
  // The layers before the failed step come from the cache.
  if (retryOnce(plan.name, b.log, r.retried)) return { next: [plan] };
  const revised = recipe.repair?.(plan, b.log);
  return { next: revised ? [revised] : [] };
}

async function success(
  r: Run,
  plan: BuildPlan,
  x: {
    dockerfile: string;
    script: string;
    key: string;
    envImage: string;
    reuse: Built["reuse"];
    runs: Built["runs"];
    pulled?: boolean;
  },
): Promise<BuildSuccess> {
  note(r, {
    plan: plan.name,
    stage: "done",
    ok: true,
    detail: `environment ${x.key} (${x.reuse}${x.pulled ? ", pulled from the registry" : ""})`,
    durationMs: 0,
  });
  const sb = r.o.sandbox;
  const size = await sb.imageSize(r.tag);
  const shared = x.reuse !== "off";
  const environment: Environment = {
    key: x.key,
    repo: r.task.repo,
    language: plan.language,
    base_image: r.o.baseImage,
    dockerfile: x.dockerfile,
    image: shared ? x.envImage : r.tag,
    recipe: plan.name,
    toolchain: plan.toolchainVersions,
    test_command: plan.test,
    parser: plan.parser,
    image_size_bytes: (shared ? await sb.imageSize(x.envImage) : size) ?? size,
    created_at: new Date().toISOString(),
  };
  const list = renderListScript(plan);
  const built: Built = {
    task: r.task,
    environment,
    image: r.tag,
    reuse: x.reuse,
    dockerfile: x.dockerfile,
    evaluation_script: x.script,
    ...(list ? { list_script: list } : {}),
    parser: plan.parser,
    runs: x.runs,
    checks: [],
    provenance: {
      kind: "recipe",
      name: plan.name,
      attempts: r.attempts.filter((a) => a.stage === "build" || a.stage === "resolved").length,
      prompt_tokens: 0,
      completion_tokens: 0,
      usd: 0,
    },
    build_ms: Date.now() - r.started,
  };
  return { ok: true, built, attempts: r.attempts };
}

interface ImageBuild {
  r: Run;
  plan: BuildPlan;
  dockerfile: string;
  key: string;
  envImage: string;
}

type ImageResult = Awaited<ReturnType<Sandbox["build"]>> & { reuse: Built["reuse"]; pulled?: boolean };

/**
 * Make the task's image. With reuse: the environment image for the key (built once, or made from the
 * nearest earlier environment by re-running the install on top), then the thin instance layer.
 * Without: the full Dockerfile straight into the task's tag.
 */
async function buildImage(x: ImageBuild): Promise<ImageResult> {
  const { r, plan } = x;
  const o = r.o;
  // Local images the plan copies from (a toolchain made from a host directory) exist before the build.
  const pre = await ensurePlanImages(o.sandbox, plan);
  if (!pre.ok) return { ok: false, log: pre.log, durationMs: 0, timedOut: false, reuse: "off" };
  const build = (tag: string, dockerfile: string, extra: Record<string, string> = {}) => {
    writeFileSync(join(r.context, "Dockerfile"), dockerfile);
    return o.sandbox.build({
      tag,
      dockerfile,
      contextDir: r.context,
      timeoutMs: o.buildTimeoutMs ?? BUILD_TIMEOUT_MS,
      network: true,
      labels: { "sweu.instance": r.task.instance_id, ...extra },
    });
  };
  if (o.reuse === false) return { ...(await build(r.tag, x.dockerfile)), reuse: "off" };
  let log = "";
  let how: ImageResult["reuse"] = "exact";
  // An environment another machine built and pushed is pulled rather than built again.
  const pulled: string[] = [];
  const here = async (tag: string, ref?: string) => {
    if (await o.sandbox.imageExists(tag)) return true;
    if (!(await o.images?.fetch(tag, ref))) return false;
    pulled.push(tag);
    return true;
  };
  const env = await once(x.key, async () => {
    if (await here(x.envImage)) return { ok: true as const };
    const labels = { "sweu.environment": x.key, "sweu.recipe": plan.name };
    for (const near of r.depsOverlay ? [] : (o.nearestEnvironments?.(r.task.repo, plan.name) ?? [])) {
      if (near.key === x.key || !(await here(near.image, near.image_name))) continue;
      const u = await build(x.envImage, instanceDockerfile(near.image, plan.install), labels);
      log += `[sweu] updating environment ${near.key} for ${x.key}\n${u.log}\n`;
      if (u.ok) {
        how = "nearest";
        return { ok: true as const };
      }
      break;
    }
    how = "full";
    const full = await build(x.envImage, x.dockerfile, labels);
    log += full.log;
    return full.ok ? { ok: true as const } : { ok: false as const, r: full };
  });
  if (!env.ok) return { ...env.r, log, reuse: how };
  for (const p of pulled) log = `[sweu] pulled environment ${p} from the registry\n${log}`;
  const inst = await build(r.tag, instanceDockerfile(x.envImage, plan.refresh ?? []));
  return { ...inst, log: `${log}${inst.log}`, reuse: how, pulled: pulled.length > 0 };
}
