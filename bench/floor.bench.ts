/**
 * Validation and rewards against the floor, on a run folder whose instances' images are on the engine
 * (`swe-universe run <clone> --limit N` made them). Per instance:
 *
 * - bare test time: one resolved run, evaluation.sh timed inside the container (what the tests cost,
 *   nothing else), and the one exec that runs it in a ready container;
 * - validation: the validate gate with every probe on (N runs per state, leak, comment, no-tests, load),
 *   on the instance's stored image, timed end to end; its verdict (ok or reason, FAIL_TO_PASS,
 *   PASS_TO_PASS, flaky, each check's pass/fail) is written to --out so two runs can be compared;
 * - the floor: the recorded image build + 2 × N bare test runs (+ N more with --third-state, the base
 *   state's runs in the floor); wall = recorded build + validation; ratio = wall / floor;
 * - reward latency: `evaluate --predictions gold` (evaluatePredictions, the verb's path) with 1 and with 4
 *   workers; per prediction its own wall over the bare test time, and the batch's wall.
 *
 *   node bench/floor.bench.ts --run-dir /tmp/real/click [--only a,b] [--runs 3] [--out v.json] [--no-eval]
 *     [--rewards-only] [--workers 1,4]
 *
 * It starts containers: hold the container lock (flock /tmp/sweu-containers.lock node bench/…).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluatePredictions } from "../src/evaluate/evaluate.ts";
import { parserFor } from "../src/harness/parse-run.ts";
import { runInContainer } from "../src/harness/run-state.ts";
import type { Instance } from "../src/records/index.ts";
import { createSandbox } from "../src/sandbox/index.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { builtOf } from "../src/validate/revalidate.ts";
import { validate } from "../src/validate/validate.ts";
import { fmt } from "./lib.ts";

const { values } = parseArgs({
  options: {
    "run-dir": { type: "string", multiple: true },
    only: { type: "string" },
    runs: { type: "string", default: "3" },
    out: { type: "string" },
    "no-eval": { type: "boolean", default: false },
    "rewards-only": { type: "boolean", default: false },
    "third-state": { type: "boolean", default: false },
    workers: { type: "string", default: "1,4" },
  },
});
const N = Number(values.runs);
const only = values.only ? new Set(values.only.split(",")) : undefined;
const sandbox = createSandbox();
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : Number.NaN;
};
const secs = (ms: number) => fmt(ms / 1000, 1);

interface Row {
  id: string;
  testMs: number;
  execMs: number;
  runMs: number;
  buildMs: number;
  validateMs: number;
  floorMs: number;
  verdict: unknown;
}

/**
 * The faster of two resolved runs (the first also brings the image's files into the page cache):
 * evaluation.sh's own time (timed inside the container), the one exec that stages the state and runs it
 * in a started container (what running the tests by hand in a ready container costs at least), and the
 * whole run's (container start to removal).
 */
async function bare(inst: Instance): Promise<{ testMs: number; execMs: number; runMs: number }> {
  let best = {
    testMs: Number.POSITIVE_INFINITY,
    execMs: Number.POSITIVE_INFINITY,
    runMs: Number.POSITIVE_INFINITY,
  };
  for (let k = 0; k < 2; k++) {
    const t = Date.now();
    const c = await sandbox.start({ image: inst.image, network: false, labels: { "sweu.role": "bench" } });
    const e = Date.now();
    let execMs = 0;
    const raw = await runInContainer(c, {
      image: inst.image,
      patch: inst.patch,
      testPatch: inst.test_patch,
      evaluationScript: inst.evaluation_script,
      timeoutMs: 15 * 60_000,
    }).finally(() => {
      execMs = Date.now() - e;
      return c.remove();
    });
    if (raw.exitCode !== 0) throw new Error(`${inst.instance_id}: gold run exits ${raw.exitCode}`);
    if (raw.durationMs < best.testMs) best = { testMs: raw.durationMs, execMs, runMs: Date.now() - t };
  }
  return best;
}

async function validateOne(store: SqliteStore, inst: Instance): Promise<Row> {
  const task = store.getTask(inst.instance_id)!;
  const env = store.getEnvironment(inst.environment_key)!;
  const b = await bare(inst);
  const t = Date.now();
  const v = await validate(builtOf(inst, task, env, false), {
    sandbox,
    parserFor,
    runsPerState: N,
    leakProbe: true,
  });
  const validateMs = Date.now() - t;
  const states = values["third-state"] ? 3 : 2;
  const verdict = v.ok
    ? {
        ok: true,
        FAIL_TO_PASS: v.instance.FAIL_TO_PASS,
        PASS_TO_PASS: v.instance.PASS_TO_PASS,
        flaky: v.instance.validation.flaky,
        checks: v.instance.checks.map((c) => `${c.check}=${c.passed}`),
      }
    : { ok: false, reason: v.reason, checks: v.checks.map((c) => `${c.check}=${c.passed}`) };
  return {
    id: inst.instance_id,
    ...b,
    buildMs: inst.cost.build_ms,
    validateMs,
    floorMs: inst.cost.build_ms + states * N * b.testMs,
    verdict,
  };
}

async function rewards(instances: Instance[], rows: Row[], workers: number): Promise<void> {
  const testMs = new Map(rows.map((r) => [r.id, r.testMs]));
  const execMs = new Map(rows.map((r) => [r.id, r.execMs]));
  // At least 4 predictions so 4 workers have work: the gold patches, repeated under other model names.
  const copies = Math.max(1, Math.ceil(4 / instances.length));
  const preds = instances.flatMap((i) =>
    Array.from({ length: copies }, (_, k) => ({
      instance_id: i.instance_id,
      model_name_or_path: `gold-${k}`,
      model_patch: i.patch,
    })),
  );
  const out = mkdtempSync(join(tmpdir(), "sweu-floor-eval-"));
  const lat: number[] = [];
  const latExec: number[] = [];
  const over: number[] = [];
  const t = Date.now();
  let last = t;
  try {
    const run = await evaluatePredictions(instances, preds, out, "floor", {
      sandbox,
      workers,
      onResult: (r) => {
        const key = `${r.instance_id}/${r.model}`;
        // With one worker a prediction's latency is the time since the one before it ended.
        lat.push((Date.now() - last) / testMs.get(r.instance_id)!);
        over.push(Date.now() - last - testMs.get(r.instance_id)!);
        latExec.push((Date.now() - last) / execMs.get(r.instance_id)!);
        last = Date.now();
        if (!r.report.resolved) console.log(`  ${key}: NOT resolved (${r.report.sweu.reasons.join("; ")})`);
      },
    });
    const wall = Date.now() - t;
    const bareSum = preds.reduce((s, p) => s + testMs.get(p.instance_id)!, 0);
    const resolved = run.results.filter((r) => r.report.resolved).length;
    console.log(
      `evaluate gold, --workers ${workers}: ${preds.length} predictions in ${secs(wall)} s, ${resolved} resolved; ` +
        `batch wall / sum of bare test times ${fmt(wall / bareSum)}×; per prediction (wall from the batch's start / ${workers} lanes) ` +
        `${fmt((wall * workers) / preds.length / (bareSum / preds.length))}×`,
    );
    if (workers === 1)
      console.log(
        `  per-prediction latency / bare test time: median ${fmt(median(lat))}× (min ${fmt(Math.min(...lat))}, ` +
          `max ${fmt(Math.max(...lat))}); over the bare test: median ${Math.round(median(over))} ms; ` +
          `÷ the one exec of a ready container: median ${fmt(median(latExec))}×`,
      );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const all: Record<string, unknown> = {};
for (const dir of values["run-dir"] ?? []) {
  const store = new SqliteStore(join(dir, "store.sqlite"));
  const instances = store.listInstances().filter((i) => !only || only.has(i.instance_id));
  console.log(
    `\n${dir}: ${instances.length} instances, ${N} runs per state, every probe on, lanes ${process.env.SWEU_STATE_LANES ?? "default"}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
  );
  const rows: Row[] = [];
  if (values["rewards-only"]) {
    for (const inst of instances) {
      const b = await bare(inst);
      rows.push({ id: inst.instance_id, ...b, buildMs: 0, validateMs: 0, floorMs: 0, verdict: undefined });
      console.log(
        `  ${inst.instance_id}: bare test ${secs(b.testMs)} s (its exec ${secs(b.execMs)} s, whole run ${secs(b.runMs)} s)`,
      );
    }
    for (const w of values.workers.split(",").map(Number)) await rewards(instances, rows, w);
    store.close();
    continue;
  }
  for (const inst of instances) {
    const r = await validateOne(store, inst);
    rows.push(r);
    all[r.id] = r.verdict;
    const v = r.verdict as { ok: boolean; reason?: string };
    console.log(
      `  ${r.id}: bare test ${secs(r.testMs)} s (whole run ${secs(r.runMs)} s), build ${secs(r.buildMs)} s, ` +
        `validate ${secs(r.validateMs)} s (${fmt(r.validateMs / (2 * N * r.testMs))}× its ${2 * N} test runs), ` +
        `wall/floor ${fmt((r.buildMs + r.validateMs) / r.floorMs)}× — ${v.ok ? "ok" : v.reason}`,
    );
  }
  const ratios = rows.map((r) => (r.buildMs + r.validateMs) / r.floorMs);
  console.log(
    `  wall / floor: median ${fmt(median(ratios))}× (min ${fmt(Math.min(...ratios))}, max ${fmt(Math.max(...ratios))}); ` +
      `validation alone / its test runs: median ${fmt(median(rows.map((r) => r.validateMs / (2 * N * r.testMs))))}×`,
  );
  if (!values["no-eval"])
    for (const w of values.workers.split(",").map(Number)) await rewards(instances, rows, w);
  store.close();
}
if (values.out) writeFileSync(values.out, `${JSON.stringify(all, null, 2)}\n`);
await sandbox.cleanup();
