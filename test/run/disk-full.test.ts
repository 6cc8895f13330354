import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { DiskGuard, isDiskFull } from "../../src/run/disk.ts";
import { type PipelineEvent, runPipeline } from "../../src/run/pipeline.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { formatBytes, parseSize } from "../../src/util/size.ts";
import { pythonProject } from "../helpers/repos.ts";
import { mountSmallDisk, type SmallDisk } from "../helpers/tmpfs.ts";
import { spawnCli } from "../queue/cli.ts";

const MiB = 1024 ** 2;
const sandbox = createSandbox("auto");
let disk: SmallDisk;

beforeAll(() => {
  disk = mountSmallDisk(48 * MiB);
});
afterAll(async () => {
  disk?.unmount();
  await sandbox.cleanup();
});

describe("full disk", () => {
  it("knows the words of a full disk and reads sizes", () => {
    for (const t of [
      "write /var/lib/containers/storage/overlay/x: no space left on device",
      "Error: ENOSPC: no space left on device, write",
      "SqliteError: database or disk is full",
      "OSError: [Errno 122] Disk quota exceeded",
    ])
      expect(isDiskFull(t), t).toBe(true);
    expect(isDiskFull("FAILED tests/test_space.py::test_no_space - AssertionError")).toBe(false);
    expect(isDiskFull("error: could not compile `left`")).toBe(false);
    expect(parseSize("500M")).toBe(500 * MiB);
    expect(parseSize("1.5g")).toBe(1.5 * 1024 * MiB);
    expect(parseSize("2GiB")).toBe(2 * 1024 * MiB);
    expect(() => parseSize("lots")).toThrow(/not a size: "lots"/);
    expect(formatBytes(3 * MiB)).toBe("3.0 MiB");
  });

  it("the guard pauses below the minimum, says where, and goes on when space is freed", async () => {
    const said: string[] = [];
    const guard = new DiskGuard({
      paths: [disk.dir, join(disk.dir, "not", "made", "yet")],
      minFreeBytes: 8 * MiB,
      checkMs: 100,
      onPause: (w) => said.push(w),
      onResume: () => said.push("resumed"),
    });
    await guard.ready(); // room: at once
    disk.fill(2 * MiB);
    try {
      expect(guard.shortage()).toMatch(new RegExp(`MiB free on ${disk.dir} \\(minimum 8\\.0 MiB\\)`));
      let done = false;
      const waiting = Promise.all([guard.ready(), guard.ready()]).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 400));
      expect(done).toBe(false);
      expect(said).toHaveLength(1); // two waiters, one pause
      expect(said[0]).toMatch(/disk nearly full: .* new tasks wait/);
      disk.unfill();
      await waiting;
      expect(said.at(-1)).toBe("resumed");
    } finally {
      disk.unfill();
    }
  });

  it("mining into a full disk ends with a clear message and loses nothing; the same command then goes on", async () => {
    const repo = pythonProject();
    const runDir = join(disk.dir, "mine");
    disk.fill(0);
    try {
      const full = spawnCli(["mine", repo.dir, "--run-dir", runDir, "--json"]);
      expect(await full.exited).toBe(4);
      expect(full.err()).toMatch(/the disk is full \(.*\)\. Everything recorded so far is kept/);
      expect(full.err()).not.toMatch(/internal error/);
    } finally {
      disk.unfill();
    }
    const again = spawnCli(["mine", repo.dir, "--run-dir", runDir, "--json"]);
    expect(await again.exited, again.err()).toBe(0);
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    expect(store.listTasks()).toHaveLength(1);
    store.close();
  }, 120_000);

  it("a run pauses before a task while the disk is short, and retries a task that filled it; nothing is lost", async () => {
    const repo = pythonProject();
    const go = async (name: string, minFreeDisk: number, onEvent: (e: PipelineEvent) => void) => {
      const runDir = join(disk.dir, name);
      mkdirSync(runDir, { recursive: true });
      const store = new SqliteStore(join(runDir, "store.sqlite"));
      const events: PipelineEvent[] = [];
      const summary = await runPipeline(await GitSource.open(repo.dir), store, sandbox, {
        runDir,
        runsPerState: 1,
        skipProbes: true,
        minFreeDisk,
        diskCheckMs: 200,
        onEvent: (e) => {
          events.push(e);
          onEvent(e);
        },
      });
      const out = { summary, events, rejections: store.listRejections(), instances: store.listInstances() };
      store.close();
      return out;
    };
    const freeLater = () => setTimeout(() => disk.unfill(), 1500);

    // 1. Short before the task: it waits, then runs once.
    const a = await go("a", 6 * MiB, (e) => {
      if (e.type === "mined") disk.fill(2 * MiB);
      if (e.type === "paused") freeLater();
    });
    expect(a.rejections).toEqual([]);
    expect(a.instances).toHaveLength(1);
    const types = a.events.map((e) => e.type);
    expect(types.indexOf("paused")).toBeLessThan(types.indexOf("resumed"));
    expect(types.indexOf("resumed")).toBeLessThan(types.indexOf("task-end"));
    expect(a.events.find((e) => e.type === "paused")).toMatchObject({
      why: expect.stringMatching(new RegExp(`free on ${disk.dir}.*minimum 6\\.0 MiB`)),
    });

    // 2. No minimum: the disk fills up as the task starts; its writes fail with ENOSPC. The task is not
    // rejected; it waits and runs again once space is back.
    const b = await go("b", 0, (e) => {
      if (e.type === "task-start") disk.fill(0);
      if (e.type === "paused") freeLater();
    });
    expect(b.rejections, JSON.stringify(b.rejections)).toEqual([]);
    expect(b.instances).toHaveLength(1);
    const paused = b.events.filter((e) => e.type === "paused");
    expect(paused.length).toBeGreaterThanOrEqual(1);
    expect(paused[0]).toMatchObject({
      why: expect.stringMatching(/filled up during a task \(.*(no space left on device|ENOSPC)/i),
    });
    expect(b.events.filter((e) => e.type === "task-end")).toHaveLength(1);
  }, 900_000);
});
