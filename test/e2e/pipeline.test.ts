import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildSuccess, buildEnvironment } from "../../src/builder/builder.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { parserFor } from "../../src/validate/parse-run.ts";
import { validate } from "../../src/validate/validate.ts";
import { goldAndEmpty } from "../helpers/e2e-run.ts";
import { startRegistry } from "../helpers/registry.ts";
import { nodeProject, pythonProject } from "../helpers/repos.ts";

const sandbox = createSandbox("auto");
let baseImage: string;

beforeAll(async () => {
  baseImage = await ensureBaseImage(sandbox);
}, 900_000);
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
  await sandbox.cleanup();
});

async function runRepo(repoDir: string, registry?: string) {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-run-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const source = await GitSource.open(repoDir);
  const summary = await runPipeline(source, store, sandbox, { runDir, runsPerState: 2, registry });
  return { runDir, store, source, summary };
}

describe("run: mine → build → validate → export on real containers", () => {
  it("turns a Python PR (pytest) into a validated instance, pushed to a registry, that gold resolves and an empty patch does not", async () => {
    const repo = pythonProject();
    const registry = await startRegistry();
    stops.push(registry.stop);
    const { runDir, store, summary } = await runRepo(repo.dir, `${registry.host}/sweu`);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.FAIL_TO_PASS).toEqual(["tests/test_ops.py::test_clamp_high"]);
    expect(inst!.PASS_TO_PASS.sort()).toEqual([
      "tests/test_ops.py::test_add",
      "tests/test_ops.py::test_clamp_low",
      "tests/test_ops.py::test_mul",
    ]);
    expect(inst!.validation.runs.filter((r) => r.state === "buggy").every((r) => r.exit_code !== 0)).toBe(
      true,
    );
    expect(inst!.validation.runs.filter((r) => r.state === "resolved").every((r) => r.exit_code === 0)).toBe(
      true,
    );
    expect(inst!.checks.map((c) => [c.check, c.passed]).filter(([, p]) => !p)).toEqual([]);
    expect(inst!.checks.some((c) => c.check === "comment-probe")).toBe(true);
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["tests/test_ops.py::test_clamp_high"]);
    expect(gold.tests_status.PASS_TO_PASS.failure).toEqual([]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["tests/test_ops.py::test_clamp_high"]);
    expect(empty.tests_status.PASS_TO_PASS.success.sort()).toEqual(inst!.PASS_TO_PASS.slice().sort());
    expect(JSON.parse(store.getMeta(`push:${inst!.instance_id}`)!)).toMatchObject({
      ok: true,
      ref: `${registry.host}/sweu/${inst!.image.split("/").pop()}`,
    });
    expect(await registry.tags(`sweu/${inst!.image.split("/").pop()!.split(":")[0]}`)).toEqual(["latest"]);
    expect(existsSync(join(runDir, "dataset.jsonl"))).toBe(true);
    expect(existsSync(join(runDir, "dataset.parquet"))).toBe(true);
    const row = JSON.parse(readFileSync(join(runDir, "dataset.jsonl"), "utf8").trim());
    expect(JSON.parse(row.FAIL_TO_PASS)).toEqual(["tests/test_ops.py::test_clamp_high"]);
    // The image's history holds nothing of the fix.
    const c = await sandbox.start({ image: inst!.image });
    try {
      const r = await c.exec(
        `cd /testbed && git log --all --oneline | wc -l && git rev-parse HEAD && git tag | wc -l && git remote | wc -l && (git fsck --unreachable --no-reflogs 2>/dev/null | wc -l) && grep -c 'min(hi' calc/ops.py || true`,
      );
      const [commits, head, tags, remotes, unreachable, fixLines] = r.output.trim().split("\n");
      expect(Number(commits)).toBe(1);
      expect(head).toBe(inst!.base_commit);
      expect([tags, remotes, unreachable, fixLines]).toEqual(["0", "0", "0", "0"]);
      const leak = await c.exec(
        `cd /testbed && git cat-file -e ${repo.git("rev-parse", "HEAD")} && echo LEAK || echo clean`,
      );
      expect(leak.output.trim()).toBe("clean");
    } finally {
      await c.remove();
    }
    store.close();
  }, 1_500_000);

  it("turns a JS PR (node:test) into a validated instance that gold resolves and an empty patch does not", async () => {
    const repo = nodeProject();
    const { store, summary } = await runRepo(repo.dir);
    const rejections = store.listRejections();
    expect(rejections, JSON.stringify(rejections, null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    const [inst] = store.listInstances();
    expect(inst!.language).toBe("javascript");
    expect(inst!.FAIL_TO_PASS).toEqual(["truncate"]);
    expect(inst!.PASS_TO_PASS).toEqual(["capitalize"]);
    const { gold, empty } = await goldAndEmpty(sandbox, inst!);
    expect(gold.resolved).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["truncate"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["truncate"]);
    expect(empty.tests_status.PASS_TO_PASS.success).toEqual(["capitalize"]);
    store.close();
  }, 1_500_000);
});

describe("in-loop hacking detection", () => {
  it("rejects a verifier that greps the source instead of running the tests", async () => {
    const repo = pythonProject();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-hack-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const { mine } = await import("../../src/mine/mine.ts");
    await mine(source, store);
    const [task] = store.listTasks();
    const built = await buildEnvironment(task!, {
      sandbox,
      gitDir: source.git.dir,
      workDir: join(runDir, "work"),
      baseImage,
      parserFor,
    });
    expect(built.ok).toBe(true);
    const grepVerifier = [
      "#!/bin/bash",
      "cd /testbed",
      'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
      'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
      "if grep -q 'min(hi' calc/ops.py; then echo 'tests/test_ops.py::test_clamp_high PASSED'; rc=0; else echo 'FAILED tests/test_ops.py::test_clamp_high'; rc=1; fi",
      'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
      "exit $rc",
      "",
    ].join("\n");
    const hacked: BuildSuccess = { ...(built as BuildSuccess), evaluationScript: grepVerifier, runs: [] };
    const v = await validate(task!, hacked, { sandbox, parserFor, runsPerState: 1 });
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe("hacked_verifier");
      expect(v.checks.filter((c) => !c.passed).length).toBeGreaterThan(0);
    }
    // Even with the static rules out of the way, the comment probe catches it by running it.
    const { commentProbe } = await import("../../src/validate/checks/probes.ts");
    const probe = await commentProbe(task!, {
      sandbox,
      image: (built as BuildSuccess).environment.image,
      evaluationScript: grepVerifier,
      timeoutMs: 120_000,
    });
    expect(probe.passed).toBe(false);
    store.close();
  }, 1_500_000);
});
