import { describe, expect, it } from "vitest";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { typescriptProject } from "../helpers/repos-node.ts";

const sandbox = e2eSandbox();

const HIGH = "test/range.test.ts > clamp > keeps the upper bound";

describe("TypeScript (vitest, npm ci): mine → build → validate → export → evaluate on real containers", () => {
  it("turns a TypeScript PR into a validated instance that gold resolves and an empty patch does not", async () => {
    const repo = typescriptProject();
    const { store, summary } = await runRepo(sandbox, repo.dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("typescript");
    expect(inst!.parser).toBe("vitest");
    expect(inst!.FAIL_TO_PASS).toEqual([HIGH]);
    expect(inst!.PASS_TO_PASS.sort()).toEqual([
      "test/range.test.ts > clamp > keeps the lower bound",
      "test/range.test.ts > range counts up to hi",
    ]);
    // The lockfile is honoured (npm ci) and only the PR's test file runs.
    expect(inst!.dockerfile).toContain("npm ci --no-audit --no-fund");
    expect(inst!.evaluation_script).toContain("npx vitest run --reporter=verbose test/range.test.ts");
    expect(inst!.checks.filter((c) => !c.passed).map((c) => c.check)).toEqual([]);
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual([HIGH]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual([HIGH]);
    store.close();
  }, 1_500_000);
});
