import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { startRegistry } from "../helpers/registry.ts";
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
  it("builds a real task on a worker; the coordinator alone writes the store; a refused push keeps the instance and `push` sends it later", async () => {
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
    // Nothing was lost: once the registry is up, `swe-universe push` sends what was refused, and only that.
    const registry = await startRegistry(dead);
    try {
      const push = spawnCli(["push", "--run-dir", runDir, "--registry", `127.0.0.1:${dead}/sweu`, "--json"]);
      expect(await push.exited, push.err()).toBe(0);
      expect(JSON.parse(push.out())).toMatchObject({ refused: [], already: 0 });
      expect(JSON.parse(push.out()).pushed).toHaveLength(1);
      const again = spawnCli(["push", "--run-dir", runDir, "--registry", `127.0.0.1:${dead}/sweu`]);
      expect(await again.exited).toBe(0);
      expect(again.out()).toMatch(/pushed 0, refused 0, already there 1/);
      const s2 = new SqliteStore(join(runDir, "store.sqlite"));
      const inst = s2.listInstances()[0]!;
      expect(JSON.parse(s2.getMeta(`push:${inst.instance_id}`)!).ok).toBe(true);
      s2.close();
      expect(await registry.tags(`sweu/${inst.image.split("/").pop()!.split(":")[0]}`)).toEqual(["latest"]);
    } finally {
      await registry.stop();
    }
    for (const w of workers) w.proc.kill("SIGTERM");
    // 0, or 143 when the sandbox's own SIGTERM handler (containers were started) ends the process first.
    for (const code of await Promise.all(workers.map((w) => w.exited))) expect([0, 143]).toContain(code);
  }, 1_800_000);
});
