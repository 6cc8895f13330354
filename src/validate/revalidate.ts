/**
 * Re-validating stored instances (`swe-universe validate`): optionally rebuild each image from its
 * recorded Dockerfile with the task's own sanitised checkout, then run the validate gate again. An instance
 * that no longer holds becomes a rejection; one that holds keeps its builder and cost.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoView, sanitisedCheckout } from "../builder/repo.ts";
import { stageDependencyOverlay } from "../builder/reuse.ts";
import { stageSiteCas } from "../builder/site.ts";
import { parserFor } from "../harness/parse-run.ts";
import type { Built, Environment, Instance, ReasonCode, Task } from "../records/index.ts";
import { ensureImage } from "../sandbox/image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";
import { validate } from "./validate.ts";

export interface RevalidateOptions {
  sandbox: Sandbox;
  runsPerState: number;
  skipProbes?: boolean;
  loadProbeCpus: number;
  /** Rebuild each image from its Dockerfile first, from the commits in this clone. */
  rebuildFrom?: (repo: string) => string | undefined;
}

export interface RevalidateResult {
  id: string;
  ok: boolean;
  reason?: ReasonCode | string;
}

/** The Built an instance stands for: its image, script and environment, and no runs or checks yet. */
export function builtOf(inst: Instance, task: Task, env: Environment, rebuilt: boolean): Built {
  return {
    task,
    environment: env,
    image: inst.image,
    reuse: rebuilt ? "off" : inst.validation.image_rebuilt ? "full" : "exact",
    dockerfile: inst.dockerfile,
    evaluation_script: inst.evaluation_script,
    parser: inst.parser,
    ...(inst.list_script ? { list_script: inst.list_script } : {}),
    runs: [],
    checks: [],
    provenance: { ...inst.builder, prompt_tokens: 0, completion_tokens: 0, usd: 0 },
    build_ms: inst.cost.build_ms,
  };
}

/** Rebuild an instance's image from its recorded Dockerfile, staged as the builder staged it. */
async function rebuild(inst: Instance, task: Task, gitDir: string, sandbox: Sandbox) {
  const ctx = mkdtempSync(join(tmpdir(), "sweu-rebuild-"));
  try {
    await sanitisedCheckout(gitDir, inst.base_commit, join(ctx, "testbed"));
    stageSiteCas(ctx);
    // The dependency files the gold patch changes, as the builder staged them (`COPY deps-overlay/`).
    const view = await repoView(gitDir, inst.base_commit);
    await stageDependencyOverlay(
      gitDir,
      { resolvedCommit: task.resolved_commit, patch: inst.patch, view },
      ctx,
    );
    writeFileSync(join(ctx, "Dockerfile"), inst.dockerfile);
    return await sandbox.build({
      tag: inst.image,
      dockerfile: inst.dockerfile,
      contextDir: ctx,
      network: true,
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}

function reject(store: Store, inst: Instance, task: Task, reason: ReasonCode, detail: string): void {
  store.putRejection({
    id: inst.instance_id,
    repo: inst.repo,
    number: task.number,
    stage: "validate",
    reason,
    detail: detail.slice(0, 8000),
    at: new Date().toISOString(),
  });
}

/** Re-validate one stored instance and write what it came to. */
export async function revalidate(
  store: Store,
  inst: Instance,
  o: RevalidateOptions,
): Promise<RevalidateResult> {
  const id = inst.instance_id;
  const task = store.getTask(id);
  const env = store.getEnvironment(inst.environment_key);
  if (!task || !env) return { id, ok: false, reason: "missing task or environment record" };
  if (o.rebuildFrom) {
    const gitDir = o.rebuildFrom(inst.repo);
    if (!gitDir) throw new Error(`the run does not say where ${inst.repo} is cloned; pass --repo`);
    const b = await rebuild(inst, task, gitDir, o.sandbox);
    if (!b.ok) {
      reject(store, inst, task, "image_rebuild_failed", b.log.slice(-4000));
      return { id, ok: false, reason: "image_rebuild_failed" };
    }
  }
  // Not rebuilt: the image as it is, pulled from image_name when it is not here.
  const img = o.rebuildFrom ? { ok: true as const, image: inst.image } : await ensureImage(o.sandbox, inst);
  if (!img.ok) return { id, ok: false, reason: img.error };
  const v = await validate(
    { ...builtOf(inst, task, env, !!o.rebuildFrom), image: img.image },
    {
      sandbox: o.sandbox,
      parserFor,
      runsPerState: o.runsPerState,
      skipProbes: o.skipProbes,
      leakProbe: !o.skipProbes,
      loadProbeCpus: o.skipProbes ? 0 : o.loadProbeCpus,
    },
  );
  if (!v.ok && (v.reason === "sandbox_error" || v.reason === "internal_error"))
    // The engine or this program failed, not the instance: the recorded instance stays.
    return { id, ok: false, reason: `${v.reason}, instance kept: ${v.detail.split("\n")[0]}` };
  if (!v.ok) {
    reject(store, inst, task, v.reason, v.detail);
    return { id, ok: false, reason: v.reason };
  }
  const rebuilt = !!o.rebuildFrom || inst.validation.image_rebuilt;
  // The statement the instance was settled with (written, templated or kept) stays.
  const { problem_statement, problem_statement_source, original_problem_statement, statement } = inst;
  store.putInstance({
    ...v.instance,
    problem_statement,
    ...(problem_statement_source ? { problem_statement_source } : {}),
    ...(original_problem_statement ? { original_problem_statement } : {}),
    ...(statement ? { statement } : {}),
    ...(inst.image_name ? { image_name: inst.image_name } : {}),
    validation: { ...v.instance.validation, image_rebuilt: rebuilt },
    builder: inst.builder,
    cost: inst.cost,
  });
  return { id, ok: true };
}
