import { describe, expect, it } from "vitest";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { pythonUnittestProject } from "../helpers/repos-python.ts";

const sandbox = e2eSandbox();

describe("Python (unittest, no pytest): mine → build → validate → export → evaluate on real containers", () => {
  it("runs the PR's test module with python -m unittest; gold resolves, an empty patch does not", async () => {
    const { store, summary } = await runRepo(sandbox, pythonUnittestProject().dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("python");
    expect(inst!.parser).toBe("unittest");
    expect(inst!.evaluation_script).toContain("python -m unittest -v tests.test_words 2>&1");
    // No pytest in an environment whose project never asks for it.
    expect(inst!.dockerfile).not.toContain("pytest");
    // unittest's own names (module.Class.method); tests/test_misc.py is not the PR's, so it does not run.
    expect(inst!.FAIL_TO_PASS).toEqual(["tests.test_words.CountWordsTest.test_empty"]);
    expect([...inst!.PASS_TO_PASS].sort()).toEqual([
      "tests.test_words.CountWordsTest.test_simple",
      "tests.test_words.TitleCaseTest.test_title",
    ]);
    expect(inst!.checks.filter((c) => !c.passed).map((c) => c.check)).toEqual([]);
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["tests.test_words.CountWordsTest.test_empty"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["tests.test_words.CountWordsTest.test_empty"]);
    store.close();
  }, 1_500_000);
});
