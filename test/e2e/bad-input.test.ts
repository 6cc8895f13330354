import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SESSION, SESSION_LABEL } from "../../src/sandbox/oci.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { run } from "../../src/util/exec.ts";
import { troubledPythonProject } from "../helpers/repos.ts";

const sandbox = createSandbox("auto");
afterAll(() => sandbox.cleanup());

describe("run on PRs that cannot become environments", () => {
  it("names each failure, cleans up its containers and goes on to the next PR", async () => {
    const repo = troubledPythonProject();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-bad-run-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const summary = await runPipeline(source, store, sandbox, {
      runDir,
      runsPerState: 1,
      testTimeoutMs: 20_000,
      maxAttempts: 3,
    });
    const reasons = Object.fromEntries(
      store.listRejections().map((r) => [r.number, `${r.stage}:${r.reason}`]),
    );
    expect(reasons).toEqual({
      11: "build:tests_timeout",
      12: "build:needs_network",
      14: "build:install_failed",
    });
    expect(summary.rejected).toBe(3);
    expect(store.getRejection(`${source.repo.replace("/", "__")}-14`)!.detail).toContain(
      "sweu-this-package-does-not-exist",
    );
    const engine = sandbox.engine;
    const left = await run(engine, ["ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`]);
    expect(left.stdout.trim()).toBe("");
    store.close();
  }, 1_500_000);
});
