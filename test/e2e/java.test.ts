import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import { loadPredictions } from "../../src/evaluate/inputs.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { e2eSandbox } from "../helpers/e2e-run.ts";
import { mavenProject } from "../helpers/repos-java.ts";

const sandbox = e2eSandbox();

describe("run: a Maven PR (JUnit 5) on real containers", () => {
  it("becomes a validated instance that the harness grades: gold resolves, empty does not", async () => {
    const repo = mavenProject();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-run-mvn-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const summary = await runPipeline(source, store, sandbox, { runDir, runsPerState: 2 });
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("java");
    expect(inst!.builder).toMatchObject({ kind: "recipe" });
    expect(inst!.parser).toBe("maven");
    expect(inst!.evaluation_script).toContain("-Dtest='OpsTest,OpsTest$*'");
    expect(inst!.FAIL_TO_PASS).toEqual(["calc.OpsTest.clampHigh"]);
    // Surefire's names, parametrised cases included; StrsTest is not a test of the PR, so it does not run.
    expect([...inst!.PASS_TO_PASS].sort()).toEqual([
      "calc.OpsTest.add",
      "calc.OpsTest.clampLow(int)[1]",
      "calc.OpsTest.clampLow(int)[2]",
    ]);
    expect(inst!.checks.filter((c) => !c.passed).map((c) => c.check)).toEqual([]);

    const out = join(runDir, "eval");
    const preds = [...loadPredictions("gold", [inst!]), ...loadPredictions("empty", [inst!])];
    const run = await evaluatePredictions([inst!], preds, out, "mvn", { sandbox, timeoutMs: 300_000 });
    const by = (m: string) => run.results.find((r) => r.model === m)!;
    expect(by("gold").report.resolved, by("gold").output.slice(-3000)).toBe(true);
    expect(by("empty").report.resolved).toBe(false);
    expect(by("empty").report.tests_status.FAIL_TO_PASS.failure).toEqual(["calc.OpsTest.clampHigh"]);
    store.close();
  }, 1_500_000);
});
