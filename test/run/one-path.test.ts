/**
 * The drift between the local and the queued task path, and free-text causes, as they once were:
 * `run --redis … --no-reuse` reused environments on the workers; `--workers 2 --registry` pushed nothing;
 * a failing suite that printed "No space left on device" was taken for a full disk and retried for ever.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentTag } from "../../src/builder/reuse.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import { type PipelineEvent, runPipeline } from "../../src/run/pipeline.ts";
import { pushRecord } from "../../src/run/push.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { e2eSandbox } from "../helpers/e2e-run.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { pythonProject, TestRepo } from "../helpers/repos.ts";
import { type CliProc, spawnCli } from "../queue/cli.ts";
import { type RedisServer, startRedis } from "../queue/redis.ts";

const sandbox = e2eSandbox();
let redis: RedisServer;
let registry: Registry;
const procs: CliProc[] = [];
beforeAll(async () => {
  redis = await startRedis();
  registry = await startRegistry();
});
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await redis?.stop();
  await registry?.stop();
});

/** A PR whose new test fails with and without the fix, printing what a full disk prints. */
function suiteThatSaysENOSPC(): TestRepo {
  const r = new TestRepo("sweu-enospc-");
  const pyproject =
    '[project]\nname = "roomy"\nversion = "0.1.0"\n[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n';
  r.commit("Initial", {
    "pyproject.toml": pyproject,
    "roomy/__init__.py": "def room():\n    return 0\n",
    "tests/test_room.py": "from roomy import room\n\n\ndef test_room():\n    assert room() == 0\n",
  });
  r.mergePr(3, "fix-room", "Report free room", "", [
    {
      "roomy/__init__.py": "def room():\n    return 1\n",
      "tests/test_room.py": [
        "import sys",
        "from roomy import room",
        "",
        "",
        "def test_room():",
        '    print("OSError: [Errno 28] No space left on device", file=sys.stderr)',
        "    assert room() == 2",
        "",
      ].join("\n"),
    },
  ]);
  return r;
}

async function run(repo: TestRepo, o: Record<string, unknown>) {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-onepath-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const events: PipelineEvent[] = [];
  const summary = await runPipeline(await GitSource.open(repo.dir), store, sandbox, {
    runDir,
    runsPerState: 1,
    skipProbes: true,
    onEvent: (e) => events.push(e),
    ...o,
  });
  return { store, summary, events, runDir };
}

describe("one task path", () => {
  it("a failing suite that prints ENOSPC is rejected, not taken for a full disk and retried", async () => {
    const { store, events } = await run(suiteThatSaysENOSPC(), { maxAttempts: 1, diskCheckMs: 100 });
    expect(events.filter((e) => e.type === "paused")).toEqual([]);
    const [rej] = store.listRejections().filter((r) => r.stage === "build");
    expect(rej?.reason).toMatch(/builder_exhausted|resolved_fails/);
    expect(rej?.detail).toMatch(/No space left on device/);
    store.close();
  }, 900_000);

  it("--workers 2 --registry pushes the instance image and names it in image_name", async () => {
    const { store } = await run(pythonProject(), { workers: 2, registry: `${registry.host}/sweu` });
    const [inst] = store.listInstances();
    expect(inst, JSON.stringify(store.listRejections())).toBeDefined();
    const ref = `${registry.host}/sweu/${inst!.image.split("/").pop()}`;
    expect(pushRecord(store, inst!.instance_id)).toMatchObject({ ok: true, ref });
    expect(inst!.image_name).toBe(ref);
    expect(await registry.tags(`sweu/${inst!.image.split("/").pop()!.split(":")[0]}`)).toEqual(["latest"]);
    store.close();
  }, 900_000);

  it("a queued run with --no-reuse builds from scratch on the worker: no shared environment image", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-onepath-dist-"));
    const worker = spawnCli(["worker", "--redis", redis.url, "--queue", "nr", "--work-dir", join(dir, "w")]);
    procs.push(worker);
    await worker.waitFor(/ready/, 60_000);
    const repo = pythonProject();
    const runDir = join(dir, "run");
    const coord = spawnCli([
      "run",
      repo.dir,
      "--run-dir",
      runDir,
      "--redis",
      redis.url,
      "--queue",
      "nr",
      "--no-reuse",
      "--skip-probes",
      "--runs",
      "1",
      "--no-progress",
    ]);
    procs.push(coord);
    expect(await coord.exited, coord.err().slice(-3000)).toBe(0);
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    try {
      const [inst] = store.listInstances();
      const env = store.getEnvironment(inst!.environment_key)!;
      // Built straight into the task's own tag: the environment record names it, no env image exists.
      expect(env.image).toBe(inst!.image);
      expect(await sandbox.imageExists(environmentTag(inst!.repo, env.key))).toBe(false);
    } finally {
      store.close();
    }
    worker.proc.kill("SIGTERM");
    expect([0, 143]).toContain(await worker.exited);
  }, 900_000);
});
