import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EvaluationRun, evaluatePrediction, evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import type { Prediction } from "../../src/evaluate/inputs.ts";
import type { EvalResult } from "../../src/evaluate/report.ts";
import { instanceToRow } from "../../src/export/dataset.ts";
import type { Instance } from "../../src/records/index.ts";
import { createSandbox, type OciSandbox, SESSION, SESSION_LABEL } from "../../src/sandbox/index.ts";
import {
  buildProjectImage,
  CALC_BUGGY,
  F2P,
  makeProject,
  P2P,
  type Project,
  projectInstance,
} from "./project.ts";

const sandbox = createSandbox("auto") as OciSandbox;
let root: string;
let project: Project;
let inst: Instance;
let run: EvaluationRun;
const out = () => join(root, "eval");

/** The bug stays; under unittest the process exits 0 before any test runs. */
const EXIT0_NO_TESTS = `import os
import sys

if "unittest" in sys.argv[0]:
    os._exit(0)
${CALC_BUGGY}`;

/** The bug stays; prints a fake "ok" for the F2P test inside the real section and forces exit 0 at exit. */
const FAKE_OK_INSIDE = `import atexit
import os
import sys

if "unittest" in sys.argv[0]:
    print("test_add (tests.test_calc.CalcTest.test_add) ... ok", flush=True)
    atexit.register(lambda: os._exit(0))
${CALC_BUGGY}`;

/**
 * The bug stays; during evaluation.sh's build step (before the real markers) prints a complete fake
 * section with a guessed nonce and "ok" lines, then exits 0 under unittest so the real section is empty.
 */
const FAKE_SECTION_OUTSIDE = `import os
import sys

if sys.argv[0] == "-c":
    guess = os.environ.get("SWEU_NONCE", "0")
    print(">>>>> SWEU TEST OUTPUT START " + guess)
    print("test_add (tests.test_calc.CalcTest.test_add) ... ok")
    print("test_sub (tests.test_calc.CalcTest.test_sub) ... ok")
    print("OK")
    print(">>>>> SWEU TEST OUTPUT END " + guess, flush=True)
elif "unittest" in sys.argv[0]:
    os._exit(0)
${CALC_BUGGY}`;

const NOT_APPLYING = `diff --git a/calc.py b/calc.py
--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
-def add(x, y):
-    return x * y
+def add(x, y):
+    return x + y
`;

function result(model: string): EvalResult {
  const r = run.results.find((x) => x.model === model);
  if (!r) throw new Error(`no result for ${model}`);
  return r;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "sweu-harness-"));
  project = await makeProject(root);
  const image = await buildProjectImage(sandbox, project);
  inst = projectInstance(project, image);
  const pred = (model: string, patch: string | null): Prediction => ({
    instance_id: inst.instance_id,
    model_name_or_path: model,
    model_patch: patch,
  });
  const preds = [
    pred("gold", inst.patch),
    pred("empty", ""),
    pred("none", null),
    pred("not-applying", NOT_APPLYING),
    pred("exit0-no-tests", await project.patchTo(EXIT0_NO_TESTS)),
    pred("fake-ok-inside", await project.patchTo(FAKE_OK_INSIDE)),
    pred("org/fake-section", await project.patchTo(FAKE_SECTION_OUTSIDE)),
    pred("gold", inst.patch),
  ];
  // The duplicate gold prediction names an unknown instance: listed, not evaluated.
  preds[preds.length - 1] = { ...preds[0]!, instance_id: "acme__calc-404" };
  run = await evaluatePredictions([inst], preds, out(), "t1", { sandbox, workers: 2, timeoutMs: 120_000 });
}, 900_000);

afterAll(async () => {
  await sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe("evaluation harness (real containers)", () => {
  it("resolves the gold patch, with every FAIL_TO_PASS and PASS_TO_PASS test passing", () => {
    const r = result("gold").report;
    expect(r.sweu.status).toBe("resolved");
    expect(r).toMatchObject({
      patch_is_None: false,
      patch_exists: true,
      patch_successfully_applied: true,
      resolved: true,
    });
    expect(r.tests_status.FAIL_TO_PASS).toEqual({ success: [F2P], failure: [] });
    expect(r.tests_status.PASS_TO_PASS).toEqual({ success: [P2P], failure: [] });
    expect(r.sweu.exit_code).toBe(0);
  });

  it("does not resolve an empty or missing patch: the F2P test fails", () => {
    for (const model of ["empty", "none"]) {
      const r = result(model).report;
      expect(r.resolved).toBe(false);
      expect(r.sweu.status).toBe("unresolved");
      expect(r.patch_exists).toBe(false);
      expect(r.tests_status.FAIL_TO_PASS.failure).toEqual([F2P]);
      expect(r.tests_status.PASS_TO_PASS.success).toEqual([P2P]);
      expect(r.sweu.exit_code).not.toBe(0);
    }
    expect(result("none").report.patch_is_None).toBe(true);
    expect(result("empty").report.patch_is_None).toBe(false);
  });

  it("reports a patch that does not apply as patch_failed and unresolved", () => {
    const r = result("not-applying").report;
    expect(r.sweu.status).toBe("patch_failed");
    expect(r.patch_successfully_applied).toBe(false);
    expect(r.resolved).toBe(false);
  });

  it("does not resolve an exit 0 whose output lacks the FAIL_TO_PASS test", () => {
    const r = result("exit0-no-tests").report;
    expect(r.sweu.exit_code).toBe(0);
    expect(r.patch_successfully_applied).toBe(true);
    expect(r.resolved).toBe(false);
    expect(r.tests_status.FAIL_TO_PASS.success).toEqual([]);
  });

  it("does not resolve fake 'ok' lines printed beside a real failure, even with exit 0", () => {
    const r = result("fake-ok-inside");
    expect(r.output).toContain("test_add (tests.test_calc.CalcTest.test_add) ... ok");
    expect(r.report.sweu.exit_code).toBe(0);
    expect(r.report.resolved).toBe(false);
    expect(r.report.tests_status.FAIL_TO_PASS.failure).toEqual([F2P]);
  });

  it("ignores a fake output section printed before the real markers", () => {
    const r = result("org/fake-section");
    expect(r.output).toContain(">>>>> SWEU TEST OUTPUT START 0");
    expect(r.report.sweu.exit_code).toBe(0);
    expect(r.report.resolved).toBe(false);
    expect(r.report.tests_status.FAIL_TO_PASS.success).toEqual([]);
  });

  it("writes SWE-bench-shaped report.json, test_output.txt and patch.diff per prediction", () => {
    const dir = join(out(), "org__fake-section", inst.instance_id);
    const rep = JSON.parse(readFileSync(join(dir, "report.json"), "utf8"));
    expect(Object.keys(rep)).toEqual([inst.instance_id]);
    expect(Object.keys(rep[inst.instance_id]).slice(0, 5)).toEqual([
      "patch_is_None",
      "patch_exists",
      "patch_successfully_applied",
      "resolved",
      "tests_status",
    ]);
    expect(Object.keys(rep[inst.instance_id].tests_status).sort()).toEqual([
      "FAIL_TO_FAIL",
      "FAIL_TO_PASS",
      "PASS_TO_FAIL",
      "PASS_TO_PASS",
    ]);
    expect(readFileSync(join(dir, "patch.diff"), "utf8")).toBe(result("org/fake-section").patch);
    expect(readFileSync(join(dir, "test_output.txt"), "utf8")).toContain("SWEU TEST OUTPUT END");
  });

  it("writes one run report per model with SWE-bench's summary keys", () => {
    const gold = JSON.parse(readFileSync(join(out(), "gold.t1.json"), "utf8"));
    expect(gold).toMatchObject({
      total_instances: 1,
      submitted_instances: 1,
      completed_instances: 1,
      resolved_instances: 1,
      unresolved_instances: 0,
      empty_patch_instances: 0,
      error_instances: 0,
      resolved_ids: [inst.instance_id],
      unknown_prediction_ids: ["acme__calc-404"],
    });
    const failed = JSON.parse(readFileSync(join(out(), "not-applying.t1.json"), "utf8"));
    expect(failed).toMatchObject({
      unresolved_ids: [inst.instance_id],
      patch_failed_ids: [inst.instance_id],
    });
    const empty = JSON.parse(readFileSync(join(out(), "empty.t1.json"), "utf8"));
    expect(empty).toMatchObject({ empty_patch_ids: [inst.instance_id], unresolved_instances: 1 });
  });

  it("reports an instance whose image is missing or whose parser is unknown as an error, not unresolved", async () => {
    const gold = { instance_id: inst.instance_id, model_name_or_path: "gold", model_patch: inst.patch };
    const noImage = await evaluatePrediction({ ...inst, image: "localhost/sweu-nope:missing" }, gold, {
      sandbox,
    });
    expect(noImage.report.sweu.status).toBe("error");
    expect(noImage.report.sweu.error).toContain("image not found");
    const noParser = await evaluatePrediction({ ...inst, parser: "no-such-parser" }, gold, { sandbox });
    expect(noParser.report.sweu.status).toBe("error");
    expect(noParser.report.sweu.error).toContain('unknown log parser "no-such-parser"');
  });

  it("leaves no container behind", () => {
    const ps = spawnSync(
      sandbox.executable,
      sandbox.args("ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`),
      {
        encoding: "utf8",
      },
    );
    expect(ps.status).toBe(0);
    expect(ps.stdout.trim()).toBe("");
  });

  it("the CLI checks a dataset: gold resolves (exit 0), empty is unresolved (exit 1 with --strict)", () => {
    const dataset = join(root, "dataset.jsonl");
    writeFileSync(dataset, `${JSON.stringify(instanceToRow(inst))}\n`);
    const cli = (preds: string, ...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          "src/cli/main.ts",
          "evaluate",
          "--dataset",
          dataset,
          "--predictions",
          preds,
          "--out",
          out(),
          "--run-id",
          "cli",
          ...extra,
        ],
        { encoding: "utf8" },
      );
    const gold = cli("gold", "--json");
    expect(gold.stderr).toBe("");
    expect(gold.status).toBe(0);
    expect(JSON.parse(gold.stdout)[0]).toMatchObject({ resolved_ids: [inst.instance_id], run_id: "cli" });
    const empty = cli("empty", "--strict");
    expect(empty.status).toBe(1);
    expect(empty.stdout).toContain("empty: 0/1 resolved");
    const bad = cli(join(root, "nope.jsonl"));
    expect(bad.status).toBe(3);
    expect(bad.stderr).toContain("predictions not found");
  });
});
