import { describe, expect, it } from "vitest";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { rustProject } from "../helpers/repos-rust.ts";

const sandbox = e2eSandbox();

describe("Rust: mine → build → validate → export → evaluate on real containers", () => {
  it("turns a PR into a validated instance that gold resolves and an empty patch does not", async () => {
    const { store, summary } = await runRepo(sandbox, rustProject().dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("rust");
    expect(inst!.parser).toBe("cargo");
    expect(inst!.FAIL_TO_PASS).toEqual(["clamp_high"]);
    expect(inst!.PASS_TO_PASS.sort()).toEqual(["clamp_low"]);
    expect(inst!.evaluation_script).toContain("cargo test --offline --no-fail-fast --test clamp");
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["clamp_high"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["clamp_high"]);
    store.close();
  }, 1_500_000);
});
