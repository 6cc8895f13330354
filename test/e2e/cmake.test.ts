import { describe, expect, it } from "vitest";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { cmakeProject } from "../helpers/repos-cmake.ts";

const sandbox = e2eSandbox();

describe("C++ (CMake + GoogleTest): mine → build → validate → export → evaluate on real containers", () => {
  it("turns a PR into a validated instance that gold resolves and an empty patch does not", async () => {
    const { store, summary } = await runRepo(sandbox, cmakeProject().dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(2);
    const inst = store.listInstances().find((i) => i.instance_id.endsWith("-5"));
    expect(inst!.language).toBe("cpp");
    expect(inst!.parser).toBe("ctest");
    expect(inst!.FAIL_TO_PASS).toEqual(["Calc.ClampHigh"]);
    expect(inst!.PASS_TO_PASS.sort()).toEqual(["Calc.Add", "Calc.ClampLow"]);
    expect(inst!.evaluation_script).toContain("GTEST_OUTPUT=xml:");
    expect(inst!.dockerfile).toContain("-DCALC_BUILD_TESTS=ON");
    expect(inst!.dockerfile).toContain("libgtest-dev");
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["Calc.ClampHigh"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["Calc.ClampHigh"]);

    // PR #6: the buggy test program does not compile. The install step deleted every linked binary, so no
    // stale program from the base commit runs: CTest says "Not Run" in the buggy state. The base state
    // (the base commit without the test patch) ran the old cases and they passed: they are PASS_TO_PASS,
    // and only the PR's new case is FAIL_TO_PASS (Go and Rust behave the same when a test package does not
    // build).
    const sign = store.listInstances().find((i) => i.instance_id.endsWith("-6"))!;
    expect(sign.FAIL_TO_PASS).toEqual(["Calc.Sign"]);
    expect(sign.PASS_TO_PASS.sort()).toEqual(["Calc.Add", "Calc.ClampHigh", "Calc.ClampLow"]);
    const buggy = sign.validation.runs.find((r) => r.state === "buggy")!;
    expect(buggy.log_tail).toMatch(/calc_test \.+\*\*\*Not Run/);
    store.close();
  }, 1_500_000);
});
