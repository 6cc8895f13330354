import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildSuccess, buildEnvironment } from "../../src/builder/builder.ts";
import { exportHarbor, exportRebuildContexts } from "../../src/export/consumers.ts";
import { parserFor } from "../../src/harness/parse-run.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import type { Built, Instance } from "../../src/records/index.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { ensureBaseImage, rootImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import type { OciSandbox } from "../../src/sandbox/oci.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { validate } from "../../src/validate/validate.ts";
import { expectConsumersResolve } from "../helpers/consumers.ts";
import { goldAndEmpty } from "../helpers/e2e-run.ts";
import { startRegistry } from "../helpers/registry.ts";
import { nodeProject, pythonProject } from "../helpers/repos.ts";
import { CLI } from "../queue/cli.ts";

const sandbox = createSandbox("auto");
let baseImage: string;
/** The first test's run (a Python instance pushed to a registry), for the export test after it. */
let pushed: { runDir: string; store: SqliteStore; inst: Instance; registryHost: string } | undefined;

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
    expect(row.image_name).toBe(`${registry.host}/sweu/${inst!.image.split("/").pop()}`);
    // Other people's tools on the exported dataset, pulling the image from the registry by image_name.
    const c1 = await expectConsumersResolve(sandbox as OciSandbox, runDir, inst!.instance_id, {
      command: "python -m pytest -q",
      tool: "python",
      ran: /\d+ passed/,
    });
    expect(c1.entry["bash -lc"]).toBe("/opt/venv/bin/python");
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
    pushed = { runDir, store, inst: inst!, registryHost: registry.host };
  }, 1_500_000);

  it("exports Harbor task folders that Harbor's protocol runs, and a folder that rebuilds the image alone", async () => {
    const { runDir, store, inst } = pushed!;
    const harborDir = mkdtempSync(join(tmpdir(), "sweu-harbor-"));
    const contexts = await exportRebuildContexts(store, runDir);
    const harbor = await exportHarbor(store, harborDir);
    expect([contexts.written, contexts.needs, harbor.written, harbor.needs]).toEqual([1, [], 1, []]);
    const task = join(harborDir, inst.instance_id);
    expect(readFileSync(join(task, "environment", "Dockerfile"), "utf8")).toContain(
      `FROM ${inst.image_name}`,
    );
    expect(readFileSync(join(task, "task.toml"), "utf8")).toMatch(/allow_internet = false/);
    // Harbor's trial, step by step: the environment, the oracle's solve.sh (or nothing), then tests/ in /tests.
    const reward = async (solve: boolean) => {
      const c = await sandbox.start({ image: inst.image });
      try {
        if (solve) {
          await c.copyIn(join(task, "solution"), "/solution");
          expect((await c.exec("bash /solution/solve.sh", { timeoutMs: 120_000 })).exitCode).toBe(0);
        }
        await c.copyIn(join(task, "tests"), "/tests");
        await c.exec("cd /testbed && bash /tests/test.sh", { timeoutMs: 600_000 });
        return (await c.readFile("/logs/verifier/reward.txt")).toString().trim();
      } finally {
        await c.remove();
      }
    };
    expect([await reward(true), await reward(false)]).toEqual(["1", "0"]);
    // The rebuild folder: no store, no clone, no image of ours but Debian's root filesystem.
    const rebuild = join(runDir, "instances", inst.instance_id, "rebuild");
    const tag = `localhost/sweu-rebuilt.${process.pid}:latest`;
    const root = await rootImage(sandbox);
    const df = readFileSync(join(rebuild, "Dockerfile"), "utf8").replace(/^FROM .*/, `FROM ${root}`);
    writeFileSync(join(rebuild, "Dockerfile"), df);
    const r = spawnSync("bash", [join(rebuild, "rebuild.sh"), tag], {
      encoding: "utf8",
      env: { ...process.env, ENGINE: (sandbox as OciSandbox).executable },
      timeout: 1_200_000,
    });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    try {
      const { gold, empty } = await goldAndEmpty(sandbox, { ...inst, image: tag, image_name: undefined });
      expect([gold.resolved, empty.resolved]).toEqual([true, false]);
    } finally {
      await sandbox.removeImage(tag);
    }
    store.close();
  }, 1_500_000);

  it("evaluate pulls an image that is not here from image_name; one that cannot be had is exit 4, named", async () => {
    const { runDir, inst } = pushed!;
    await sandbox.removeImage(inst.image);
    const out = mkdtempSync(join(tmpdir(), "sweu-pull-"));
    const dataset = join(runDir, "dataset.jsonl");
    const ok = spawnSync(
      process.execPath,
      [CLI, "evaluate", "--dataset", dataset, "--predictions", "gold", "--out", out, "--json"],
      {
        encoding: "utf8",
        timeout: 900_000,
      },
    );
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)[0]).toMatchObject({ resolved_instances: 1, error_instances: 0 });
    expect(await sandbox.imageExists(inst.image_name!)).toBe(true);
    // A row whose image is gone and whose registry does not answer.
    const row = JSON.parse(readFileSync(dataset, "utf8").trim());
    const gone = join(out, "gone.jsonl");
    writeFileSync(
      gone,
      `${JSON.stringify({ ...row, image: "localhost/sweu-gone:none", image_name: "127.0.0.1:1/sweu/gone:none" })}\n`,
    );
    const bad = spawnSync(
      process.execPath,
      [CLI, "evaluate", "--dataset", gone, "--predictions", "gold", "--out", out],
      {
        encoding: "utf8",
        timeout: 300_000,
      },
    );
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(
      /image not found: localhost\/sweu-gone:none is not here and cannot be pulled \(127\.0\.0\.1:1\/sweu\/gone:none: /,
    );
  }, 1_500_000);

  it("turns a JS PR (node:test) into a validated instance that gold resolves and an empty patch does not", async () => {
    const repo = nodeProject();
    const { runDir, store, summary } = await runRepo(repo.dir);
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
    await expectConsumersResolve(sandbox as OciSandbox, runDir, inst!.instance_id, {
      command: "npm test",
      tool: "node",
      ran: /# pass 1/,
    });
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
    const hacked: Built = { ...(built as BuildSuccess).built, evaluation_script: grepVerifier, runs: [] };
    const v = await validate(hacked, { sandbox, parserFor, runsPerState: 1 });
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.reason).toBe("hacked_verifier");
      expect(v.checks.filter((c) => !c.passed).length).toBeGreaterThan(0);
    }
    // Even with the static rules out of the way, the comment probe catches it by running it.
    const { commentProbe } = await import("../../src/checks/probes.ts");
    const probe = await commentProbe(task!, {
      sandbox,
      image: (built as BuildSuccess).built.environment.image,
      evaluationScript: grepVerifier,
      timeoutMs: 120_000,
    });
    expect(probe.passed).toBe(false);
    store.close();
  }, 1_500_000);
});
