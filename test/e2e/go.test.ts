import { describe, expect, it } from "vitest";
import type { OciSandbox } from "../../src/sandbox/oci.ts";
import { expectConsumersResolve } from "../helpers/consumers.ts";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { goProject } from "../helpers/repos-go.ts";

const sandbox = e2eSandbox();

describe("Go: mine → build → validate → export → evaluate on real containers", () => {
  it("turns a Go PR into a validated instance that gold resolves and an empty patch does not", async () => {
    const { runDir, store, summary } = await runRepo(sandbox, goProject().dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("go");
    expect(inst!.parser).toBe("go-test-json");
    expect(inst!.FAIL_TO_PASS).toEqual(["TestClampHigh"]);
    // Only the PR's package runs: strs.TestUp is not selected.
    expect(inst!.PASS_TO_PASS.sort()).toEqual(["TestAdd", "TestClampLow"]);
    expect(inst!.evaluation_script).toContain("go test -json -count=1 ./calc");
    // TestClampHigh ran (and failed) with the test patch alone: the base state has nothing to add.
    expect(inst!.validation.base_state).toMatchObject({ mode: "not_needed", runs: 0 });
    expect(inst!.validation.categories).toMatchObject({ f2p: ["TestClampHigh"], n2p: [], from_base: [] });
    expect(inst!.dockerfile).toContain("golang.org/toolchain/@v/v0.0.1-go1.22.");
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["TestClampHigh"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["TestClampHigh"]);
    await expectConsumersResolve(sandbox as OciSandbox, runDir, inst!.instance_id, {
      command: "go test ./...",
      tool: "go",
      ran: /^ok\s/m,
    });
    store.close();
  }, 1_500_000);
});
