/**
 * The evaluation harness (DESIGN §3), also the RL reward: each prediction in a fresh container of its
 * instance's image with networking off; the patch applied (git apply, --3way, patch --fuzz), the test
 * files restored and the test patch applied, evaluation.sh run with a nonce and a timeout, its output
 * parsed and graded. The state runner is validation's own, so a patch is judged here exactly as the gold
 * patch was judged when the instance was validated.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../export/atomic.ts";
import { gradeEvaluation } from "../harness/grade.ts";
import { parserFor } from "../harness/parse-run.ts";
import { type OutputParser, type RawStateRun, runInContainer } from "../harness/run-state.ts";
import type { Instance } from "../records/index.ts";
import { ensureImage, type ImageAvailability } from "../sandbox/image.ts";
import type { ContainerSpec, Limits, Sandbox } from "../sandbox/sandbox.ts";
import { warmSandbox } from "../sandbox/warm.ts";
import { pool } from "../util/pool.ts";
import { inside, safeFileName } from "../util/safe-name.ts";
import type { Prediction } from "./inputs.ts";
import {
  type EvalResult,
  emptyTestsStatus,
  type InstanceReport,
  type RunReport,
  runReport,
} from "./report.ts";

export interface HarnessOptions {
  sandbox: Sandbox;
  /** Wall-clock limit for evaluation.sh, ms (default 30 min). */
  timeoutMs?: number;
  /** Predictions evaluated at once (default 1). */
  workers?: number;
  limits?: Limits;
  /** Called after each prediction (progress display). */
  onResult?: (r: EvalResult) => void;
  /** Per-instance reports under `<out>/<run_id>/` so a second run id never overwrites the first (the CLI sets it). */
  keyByRunId?: boolean;
  /** Where each instance's image is, once looked up (evaluatePredictions shares one lookup per instance). */
  images?: Map<string, Promise<ImageAvailability>>;
  /** The batch's images found on this machine by one lookup (those need no engine call of their own). */
  local?: Set<string>;
}

/** The image of an instance, looked up once per run of predictions. */
function imageOf(inst: Instance, o: HarnessOptions): Promise<ImageAvailability> {
  const known = o.images?.get(inst.instance_id);
  if (known) return known;
  const p = o.local?.has(inst.image)
    ? Promise.resolve({ ok: true as const, image: inst.image, pulled: false })
    : ensureImage(o.sandbox, inst);
  o.images?.set(inst.instance_id, p);
  return p;
}

/** The container a prediction runs in. */
function evalSpec(inst: Instance, image: string, o: HarnessOptions): ContainerSpec {
  return {
    image,
    network: false,
    limits: o.limits,
    labels: { "sweu.role": "evaluate", "sweu.instance": inst.instance_id },
  };
}

function isEmptyPatch(p: string | null): boolean {
  return p === null || p.trim() === "";
}

function errorReport(pred: Prediction, error: string, kind?: "image_unavailable"): InstanceReport {
  return {
    patch_is_None: pred.model_patch === null,
    patch_exists: !isEmptyPatch(pred.model_patch),
    patch_successfully_applied: false,
    resolved: false,
    tests_status: emptyTestsStatus(),
    sweu: {
      status: "error",
      exit_code: null,
      timed_out: false,
      duration_ms: 0,
      parsed: false,
      reasons: [error],
      error,
      ...(kind ? { error_kind: kind } : {}),
    },
  };
}

/** Grade one finished container run into the SWE-bench report. */
export function judgeRun(
  inst: Instance,
  pred: Prediction,
  raw: RawStateRun,
  parse: OutputParser = parserFor(inst.parser),
): InstanceReport {
  const patchExists = !isEmptyPatch(pred.model_patch);
  const base = {
    patch_is_None: pred.model_patch === null,
    patch_exists: patchExists,
  };
  if (raw.apply === "patch_failed") {
    return {
      ...base,
      patch_successfully_applied: false,
      resolved: false,
      tests_status: emptyTestsStatus(),
      sweu: {
        status: "patch_failed",
        exit_code: null,
        timed_out: false,
        duration_ms: 0,
        parsed: false,
        reasons: ["the patch does not apply (git apply, git apply --3way, patch --fuzz=5)"],
      },
    };
  }
  if (raw.apply === "test_patch_failed") {
    const error = "the instance's test patch does not apply after the model patch";
    return { ...errorReport(pred, error), patch_successfully_applied: true };
  }
  const { tests, parsed } = parse(raw.output, raw.nonce);
  const g = gradeEvaluation(inst, { exit_code: raw.exitCode, timed_out: raw.timedOut, parsed, tests });
  return {
    ...base,
    patch_successfully_applied: patchExists,
    resolved: g.resolved,
    // Instances record no FAIL_TO_FAIL / PASS_TO_FAIL tests; the keys stay for SWE-bench's shape.
    tests_status: { ...emptyTestsStatus(), ...g.tests_status },
    sweu: {
      status: g.resolved ? "resolved" : "unresolved",
      exit_code: raw.exitCode,
      timed_out: raw.timedOut,
      duration_ms: raw.durationMs,
      parsed,
      reasons: g.resolved ? [] : [g.detail],
    },
  };
}

/** Evaluate one prediction. Never throws: engine failures become an "error" report. The container is always removed. */
export async function evaluatePrediction(
  inst: Instance,
  pred: Prediction,
  o: HarnessOptions,
): Promise<EvalResult> {
  const model = pred.model_name_or_path;
  const done = (report: InstanceReport, output: string): EvalResult => ({
    instance_id: inst.instance_id,
    model,
    patch: pred.model_patch,
    report,
    output,
  });
  try {
    const parse = parserFor(inst.parser); // an unknown parser fails before any container starts
    const img = await imageOf(inst, o);
    if (!img.ok) return done(errorReport(pred, img.error, "image_unavailable"), "");
    const container = await o.sandbox.start(evalSpec(inst, img.image, o));
    let raw: RawStateRun;
    try {
      raw = await runInContainer(container, {
        image: img.image,
        patch: pred.model_patch ?? "",
        testPatch: inst.test_patch,
        evaluationScript: inst.evaluation_script,
        timeoutMs: o.timeoutMs ?? 30 * 60_000,
      });
    } finally {
      await container.remove();
    }
    return done(judgeRun(inst, pred, raw, parse), raw.applyLog + raw.output);
  } catch (e) {
    return done(errorReport(pred, e instanceof Error ? e.message : String(e)), "");
  }
}

/** SWE-bench writes model names with slashes as folder names with "__"; any name becomes one safe segment. */
export function modelDirName(model: string): string {
  return safeFileName(model);
}

/** `<out>/<model>/<instance>/`, or SWE-bench's `<out>/<run_id>/<model>/<instance>/` when a run id is given. */
export function writeInstanceResult(outDir: string, r: EvalResult, runId?: string): string {
  const parts = [modelDirName(r.model), safeFileName(r.instance_id)];
  const dir = inside(outDir, ...(runId ? [safeFileName(runId), ...parts] : parts));
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, "report.json"), `${JSON.stringify({ [r.instance_id]: r.report }, null, 2)}\n`);
  writeFileAtomic(join(dir, "test_output.txt"), r.output);
  writeFileAtomic(join(dir, "patch.diff"), r.patch ?? "");
  return dir;
}

export interface EvaluationRun {
  results: EvalResult[];
  /** One per model named in the predictions. */
  reports: { model: string; path: string; report: RunReport }[];
}

/**
 * Evaluate predictions against a dataset and write every report under `outDir`. Predictions for ids the
 * dataset lacks are listed in the run report, not evaluated.
 */
export async function evaluatePredictions(
  dataset: readonly Instance[],
  predictions: readonly Prediction[],
  outDir: string,
  runId: string,
  o: HarnessOptions,
): Promise<EvaluationRun> {
  const byId = new Map(dataset.map((i) => [i.instance_id, i]));
  const known = predictions.filter((p) => byId.has(p.instance_id));
  const unknown = predictions.filter((p) => !byId.has(p.instance_id));
  const results: EvalResult[] = [];
  // Start-up and removal off the critical path: while a prediction runs, the container of the one a lane
  // takes after it is started; containers are removed in the background.
  const sandbox = warmSandbox(o.sandbox);
  // One engine call looks up the batch's images: no lookup per prediction beside the tests.
  const tags = [...new Set(known.map((p) => byId.get(p.instance_id)!.image))];
  const local = await o.sandbox.imagesPresent?.(tags).catch(() => undefined);
  const h: HarnessOptions = { ...o, sandbox, images: o.images ?? new Map(), local };
  const workers = o.workers ?? 1;
  const prestart = (k: number) => {
    const pred = known[k];
    if (!pred) return;
    const inst = byId.get(pred.instance_id)!;
    void imageOf(inst, h).then((img) => img.ok && sandbox.prestart(evalSpec(inst, img.image, h)));
  };
  try {
    await pool(known, workers, async (pred, k) => {
      prestart(k + workers);
      const r = await evaluatePrediction(byId.get(pred.instance_id)!, pred, h);
      writeInstanceResult(outDir, r, o.keyByRunId ? runId : undefined);
      results.push(r);
      o.onResult?.(r);
    });
  } finally {
    await sandbox.settle();
  }
  results.sort((a, b) => a.instance_id.localeCompare(b.instance_id) || a.model.localeCompare(b.model));

  const models = [...new Set(predictions.map((p) => p.model_name_or_path))].sort();
  const reports = models.map((model) => {
    const report = runReport({
      runId,
      model,
      datasetIds: dataset.map((i) => i.instance_id),
      results: results.filter((r) => r.model === model),
      unknownPredictionIds: unknown.filter((p) => p.model_name_or_path === model).map((p) => p.instance_id),
    });
    const path = inside(outDir, safeFileName(`${modelDirName(model)}.${runId}.json`));
    writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
    return { model, path, report };
  });
  return { results, reports };
}
