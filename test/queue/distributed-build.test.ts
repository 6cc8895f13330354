import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { pythonProject } from "../helpers/repos.ts";
import { type CliProc, spawnCli } from "./cli.ts";
import { freePort, type RedisServer, startRedis } from "./redis.ts";

let redis: RedisServer;
const procs: CliProc[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await redis?.stop();
});

describe("distributed run: coordinator + worker processes on a real redis-server", () => {
  it("builds a real task on a worker; the coordinator alone writes the store; a refused push keeps the instance", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-dist-"));
    const workers = [0, 1].map(() =>
      spawnCli(["worker", "--redis", redis.url, "--queue", "dist", "--work-dir", join(dir, "worker")]),
    );
    procs.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor(/ready/, 60_000)));
    const repo = pythonProject();
    const runDir = join(dir, "run");
    const dead = await freePort(); // a registry address where nothing listens
    const coord = spawnCli([
      "run",
      repo.dir,
      "--run-dir",
      runDir,
      "--redis",
      redis.url,
      "--queue",
      "dist",
      "--registry",
      `127.0.0.1:${dead}/sweu`,
      "--skip-probes",
      "--runs",
      "1",
      "--no-progress",
    ]);
    procs.push(coord);
    expect(await coord.exited, coord.err().slice(-3000)).toBe(0);
    const ran = workers.filter((w) => /done local__/.test(w.err()));
    expect(ran.length).toBe(1);
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    try {
      const [inst] = store.listInstances();
      expect(inst?.FAIL_TO_PASS).toEqual(["tests/test_ops.py::test_clamp_high"]);
      expect(store.getEnvironment(inst!.environment_key)).toBeDefined();
      const push = JSON.parse(store.getMeta(`push:${inst!.instance_id}`) ?? "{}");
      expect(push.ok).toBe(false);
      expect(push.error).toMatch(new RegExp(`refused.*127\\.0\\.0\\.1:${dead}`, "s"));
    } finally {
      store.close();
    }
    expect(coord.err()).toMatch(/image push refused/);
    for (const w of workers) w.proc.kill("SIGTERM");
    // 0, or 143 when the sandbox's own SIGTERM handler (containers were started) ends the process first.
    for (const code of await Promise.all(workers.map((w) => w.exited))) expect([0, 143]).toContain(code);
  }, 1_800_000);
});
