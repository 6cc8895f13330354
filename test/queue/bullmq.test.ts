import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullQueue } from "../../src/queue/bullmq.ts";
import type { JobResult } from "../../src/queue/queue.ts";
import { mountSmallDisk } from "../helpers/tmpfs.ts";
import { type CliProc, spawnCli } from "./cli.ts";
import { type RedisServer, startRedis } from "./redis.ts";

let redis: RedisServer;
const dir = mkdtempSync(join(tmpdir(), "sweu-queue-"));
const procs: CliProc[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await redis?.stop();
});

async function workers(
  n: number,
  queue: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<CliProc[]> {
  const ws = Array.from({ length: n }, () =>
    spawnCli(
      [
        "worker",
        "--redis",
        redis.url,
        "--queue",
        queue,
        "--lock-timeout",
        "2",
        "--work-dir",
        join(dir, "w"),
        ...extra,
      ],
      env,
    ),
  );
  procs.push(...ws);
  await Promise.all(ws.map((w) => w.waitFor(/ready/, 60_000)));
  return ws;
}

const sleepJobs = (n: number, ms: number, log: string) =>
  Array.from({ length: n }, (_, i) => ({ id: `job-${i}`, name: "sleep", data: { ms, log } }));

function lines(log: string) {
  return readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => l.split(" ") as [string, string, string]);
}

describe("BullMQ queue with real redis-server and worker processes", () => {
  it("recovers the job of a worker killed with SIGKILL: every job ends exactly once", async () => {
    const ws = await workers(3, "kill");
    const log = join(dir, "kill.log");
    const q = new BullQueue({ url: redis.url, queue: "kill", runId: "kill", sweepMs: 500 });
    const results: JobResult[] = [];
    const victim = ws[0]!;
    // Kill the first worker as soon as its job has written its start line (the worker announces
    // "start" on stderr before the handler runs, so that line alone is too early).
    const killed = (async () => {
      const t0 = Date.now();
      for (;;) {
        const mine = existsSync(log)
          ? lines(log).find(([w, , pid]) => w === "start" && Number(pid) === victim.pid)
          : undefined;
        if (mine) {
          victim.proc.kill("SIGKILL");
          return mine[1];
        }
        if (Date.now() - t0 > 60_000) throw new Error("the first worker never started a job");
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await q.run(sleepJobs(9, 1500, log), (r) => {
      results.push(r);
    });
    await q.close();
    const killedId = await killed;
    expect(results.map((r) => r.id).sort()).toEqual(
      sleepJobs(9, 0, "")
        .map((j) => j.id)
        .sort(),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const l = lines(log);
    // The killed job started twice (dead worker, then another) and ended once, elsewhere.
    expect(l.filter(([w, id]) => w === "start" && id === killedId).length).toBe(2);
    const ends = l.filter(([w, id]) => w === "end" && id === killedId);
    expect(ends.length).toBe(1);
    expect(Number(ends[0]![2])).not.toBe(victim.pid);
    for (const j of sleepJobs(9, 0, ""))
      expect(l.filter(([w, id]) => w === "end" && id === j.id).length).toBe(1);
    for (const w of ws.slice(1)) w.proc.kill("SIGTERM");
    await Promise.all(ws.slice(1).map((w) => w.exited));
  }, 120_000);

  it("SIGTERM hands the running job back to the queue; another worker finishes it", async () => {
    const [first] = await workers(1, "term");
    const log = join(dir, "term.log");
    const q = new BullQueue({ url: redis.url, queue: "term", runId: "term", sweepMs: 500 });
    const results: JobResult[] = [];
    const running = q.run(sleepJobs(1, 4000, log), (r) => {
      results.push(r);
    });
    await first!.waitFor(/start job-0/, 60_000);
    const t0 = Date.now();
    first!.proc.kill("SIGTERM");
    expect(await first!.exited).toBe(143);
    expect(Date.now() - t0).toBeLessThan(3000); // it did not sit out the job
    expect(first!.err()).toMatch(/returned job-0/);
    const [second] = await workers(1, "term");
    await running;
    await q.close();
    expect(results).toEqual([{ id: "job-0", name: "sleep", ok: true, value: { pid: second!.pid } }]);
    second!.proc.kill("SIGTERM");
    await second!.exited;
  }, 120_000);

  it("keeps two runs that share a tasks queue and its workers apart, even with the same task ids", async () => {
    const ws = await workers(2, "shared");
    const log = join(dir, "shared.log");
    const runs = ["run-a", "run-b"].map(
      (runId) => new BullQueue({ url: redis.url, queue: "shared", runId, sweepMs: 500 }),
    );
    const results: JobResult[][] = [[], []];
    await Promise.all(
      runs.map((q, i) =>
        q.run(sleepJobs(4, 300, log), (r) => {
          results[i]!.push(r);
        }),
      ),
    );
    await Promise.all(runs.map((q) => q.close()));
    for (const r of results) {
      expect(r.map((x) => x.id).sort()).toEqual(["job-0", "job-1", "job-2", "job-3"]);
      expect(r.every((x) => x.ok)).toBe(true);
    }
    // Each run's jobs ran: every id ended twice, once per run.
    const ends = lines(log).filter(([w]) => w === "end");
    for (const id of ["job-0", "job-1", "job-2", "job-3"])
      expect(ends.filter(([, j]) => j === id).length).toBe(2);
    for (const w of ws) w.proc.kill("SIGTERM");
    await Promise.all(ws.map((w) => w.exited));
  }, 120_000);

  it("a worker whose disk is short hands its job back and takes none until space is freed", async () => {
    const disk = mountSmallDisk(16 * 1024 * 1024);
    try {
      disk.fill(1024 * 1024);
      const [w] = await workers(1, "disk", ["--work-dir", join(disk.dir, "w"), "--min-free-disk", "4M"], {
        SWEU_DISK_CHECK_MS: "200",
      });
      const log = join(dir, "disk.log");
      const q = new BullQueue({ url: redis.url, queue: "disk", runId: "disk", sweepMs: 500 });
      const results: JobResult[] = [];
      const running = q.run(sleepJobs(2, 100, log), (r) => {
        results.push(r);
      });
      const paused = await w!.waitFor(/paused/, 60_000);
      expect(paused).toMatch(new RegExp(`MiB free on ${disk.dir}.*minimum 4\\.0 MiB`));
      expect(w!.err()).toMatch(/returned job-\d/);
      await new Promise((r) => setTimeout(r, 1000));
      expect(existsSync(log)).toBe(false); // no job ran meanwhile
      disk.unfill();
      await w!.waitFor(/resumed/, 60_000);
      await running;
      await q.close();
      expect(results.map((r) => r.id).sort()).toEqual(["job-0", "job-1"]);
      expect(results.every((r) => r.ok)).toBe(true);
      w!.proc.kill("SIGTERM");
      await w!.exited;
    } finally {
      disk.unmount();
    }
  }, 120_000);

  it("goes on when Redis goes away and comes back (data lost): missing jobs are enqueued again", async () => {
    const ws = await workers(2, "bounce");
    const log = join(dir, "bounce.log");
    const q = new BullQueue({ url: redis.url, queue: "bounce", runId: "bounce", sweepMs: 500 });
    const results: JobResult[] = [];
    let bounced: Promise<void> | undefined;
    await q.run(sleepJobs(6, 800, log), (r) => {
      results.push(r);
      bounced ??= redis.restart(1500);
    });
    await bounced;
    await q.close();
    expect(results.map((r) => r.id).sort()).toEqual(
      sleepJobs(6, 0, "")
        .map((j) => j.id)
        .sort(),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    for (const w of ws) w.proc.kill("SIGTERM");
    await Promise.all(ws.map((w) => w.exited));
  }, 180_000);
});
