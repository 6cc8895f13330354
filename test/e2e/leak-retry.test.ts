import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { e2eSandbox } from "../helpers/e2e-run.ts";
import { pythonProjectWithStaleCache } from "../helpers/repos-python.ts";

const sandbox = e2eSandbox();
afterAll(() => sandbox.cleanup());

describe("leak probe on a shared environment", () => {
  it("catches the fix in a stale build cache of an environment built later, and builds the task from scratch", async () => {
    const repo = pythonProjectWithStaleCache();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-leak-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const id = (n: number) => `${source.repo.replace("/", "__")}-${n}`;
    const opts = { runDir, runsPerState: 1, loadProbeCpus: 0 };
    // Out of order, as --retry or several workers can make it: the newer PR builds the environment first.
    expect((await runPipeline(source, store, sandbox, { ...opts, only: [id(32)] })).instances).toBe(1);
    expect((await runPipeline(source, store, sandbox, { ...opts, only: [id(31)] })).instances).toBe(1);
    expect(store.listRejections().filter((r) => r.stage === "validate")).toEqual([]);
    const steps = readFileSync(join(runDir, "trajectories", `${id(31)}.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { stage: string; detail: string });
    const leak = steps.find((s) => s.stage === "leak");
    expect(leak?.detail).toMatch(
      /leak-probe: 1 of the fix's 1 distinctive added lines .*\.snapshot\/ops\.py/,
    );
    expect(steps.filter((s) => s.stage === "done").map((s) => /\((\w+)\)$/.exec(s.detail)?.[1])).toEqual([
      "exact",
      "off",
    ]);
    const inst = store.getInstance(id(31))!;
    expect(inst.checks.find((c) => c.check === "leak-probe")).toMatchObject({ passed: true });
    expect(inst.FAIL_TO_PASS).toEqual(["tests/test_ops.py::test_shout_strips"]);
    store.close();
  }, 900_000);
});
