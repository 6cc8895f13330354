import { describe, expect, it } from "vitest";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { autotoolsProject } from "../helpers/repos-autotools.ts";

const sandbox = e2eSandbox();

describe("C (autotools, make check): mine → build → validate → export → evaluate on real containers", () => {
  it("turns a PR into a validated instance that gold resolves and an empty patch does not", async () => {
    const { store, summary } = await runRepo(sandbox, autotoolsProject().dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("c");
    expect(inst!.parser).toBe("automake");
    // One result per test program; the skipping one (exit 77) is in neither list.
    expect(inst!.FAIL_TO_PASS).toEqual(["tests/clamp_test"]);
    expect(inst!.PASS_TO_PASS).toEqual(["tests/add_test"]);
    expect(inst!.dockerfile).toContain("RUN autoreconf -fi");
    expect(inst!.dockerfile).toMatch(/apt-get install .*\bautomake\b.*\blibtool\b/);
    expect(inst!.evaluation_script).toContain("make -k check");
    const buggy = inst!.validation.runs.find((r) => r.state === "buggy")!;
    expect(buggy.log_tail).toMatch(/^FAIL: tests\/clamp_test$/m);
    expect(buggy.log_tail).toMatch(/^SKIP: tests\/skip_test$/m);
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["tests/clamp_test"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["tests/clamp_test"]);
    store.close();
  }, 1_500_000);
});
