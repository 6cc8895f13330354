import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import { parserFor } from "../../src/harness/parse-run.ts";
import { builtOf } from "../../src/validate/revalidate.ts";
import { validate } from "../../src/validate/validate.ts";
import { e2eSandbox, runRepo } from "../helpers/e2e-run.ts";
import { goProjectNewFunction } from "../helpers/repos-go.ts";

const sandbox = e2eSandbox();

/**
 * Three-state validation on a compiled language: PR #4 adds a function and a test that uses it to the
 * package's test file, so the package does not compile without the fix and all its tests are absent from
 * the buggy runs. The base state (the base commit without the test patch) shows the old tests passing
 * before the PR: they are PASS_TO_PASS, and FAIL_TO_PASS holds only the new test.
 */
describe("Go: a PR whose test does not compile without the fix", () => {
  it("keeps the package's old tests in PASS_TO_PASS and only the new one in FAIL_TO_PASS", async () => {
    const { runDir, store, summary } = await runRepo(sandbox, goProjectNewFunction().dir);
    expect(store.listRejections(), JSON.stringify(store.listRejections(), null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.FAIL_TO_PASS).toEqual(["TestSum"]);
    expect(inst!.PASS_TO_PASS).toEqual(["TestAdd", "TestClampLow"]);
    const v = inst!.validation;
    // Without the fix every test of the package is absent (Multi-SWE-bench's n2p); two were there before.
    expect(v.categories).toMatchObject({
      n2p: ["TestAdd", "TestClampLow", "TestSum"],
      from_base: ["TestAdd", "TestClampLow"],
      f2p: [],
      p2p: [],
      anomalies: [],
    });
    // go test lists its tests: the base state cost one listing run, no test run.
    expect(v.base_state).toMatchObject({ mode: "listed", runs: 1 });
    expect(inst!.list_script).toContain("go test -list . ./calc");
    expect(v.runs.filter((r) => r.state === "base")).toEqual([]);

    const out = mkdtempSync(join(tmpdir(), "sweu-eval-"));
    // The gold patch plus a first hunk in calc/calc.go that breaks Add (line 4, before the fix's hunk).
    const breaksAdd = inst!.patch.replace(
      "+++ b/calc/calc.go\n",
      "+++ b/calc/calc.go\n@@ -3,3 +3,3 @@\n // Add returns a + b.\n" +
        "-func Add(a, b int) int { return a + b }\n+func Add(a, b int) int { return a - b }\n \n",
    );
    expect(breaksAdd).not.toBe(inst!.patch);
    const run = await evaluatePredictions(
      [inst!],
      [
        { instance_id: inst!.instance_id, model_name_or_path: "gold", model_patch: inst!.patch },
        { instance_id: inst!.instance_id, model_name_or_path: "breaks-add", model_patch: breaksAdd },
      ],
      out,
      "e2e",
      { sandbox, workers: 1, timeoutMs: 600_000 },
    );
    const report = (m: string) => run.results.find((x) => x.model === m)!.report;
    expect(report("gold").resolved, JSON.stringify(report("gold").sweu)).toBe(true);
    // The new function is there and its test passes, but an old test fails: the regression guard holds.
    expect(report("breaks-add").resolved).toBe(false);
    expect(report("breaks-add").tests_status.FAIL_TO_PASS.success).toEqual(["TestSum"]);
    expect(report("breaks-add").tests_status.PASS_TO_PASS.failure).toEqual(["TestAdd"]);

    // A runner that cannot list its tests: the base state runs them, N times (here 1), with the same lists.
    const task = store.getTask(inst!.instance_id)!;
    const env = store.getEnvironment(inst!.environment_key)!;
    const { list_script: _none, ...unlisted } = builtOf(inst!, task, env, false);
    const again = await validate(unlisted, { sandbox, parserFor, runsPerState: 1, skipProbes: true });
    expect(again.ok, again.ok ? "" : again.detail).toBe(true);
    if (!again.ok) return;
    expect(again.instance.FAIL_TO_PASS).toEqual(["TestSum"]);
    expect(again.instance.PASS_TO_PASS).toEqual(["TestAdd", "TestClampLow"]);
    expect(again.instance.validation.base_state).toMatchObject({ mode: "runs", runs: 1 });
    const base = again.instance.validation.runs.filter((r) => r.state === "base");
    expect(base).toHaveLength(1);
    expect(base[0]!.tests).toEqual(
      expect.arrayContaining([
        { name: "TestAdd", status: "PASSED" },
        { name: "TestClampLow", status: "PASSED" },
      ]),
    );
    expect(runDir).toBeTruthy();
    store.close();
  }, 1_500_000);
});
