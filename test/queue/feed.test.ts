/** The queue's feed on a real redis-server with real worker processes: jobs taken as there is room. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BullQueue } from "../../src/queue/bullmq.ts";
import { MemoryQueue } from "../../src/queue/memory.ts";
import type { JobFeed, JobQueue, JobResult, JobSpec } from "../../src/queue/queue.ts";
import { sleepHandler } from "../../src/run/jobs.ts";
import { type CliProc, spawnCli } from "./cli.ts";
import { type RedisServer, startRedis } from "./redis.ts";

let redis: RedisServer;
const dir = mkdtempSync(join(tmpdir(), "sweu-feed-"));
const procs: CliProc[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await redis?.stop();
});

/** 8 sleep jobs handed out one at a time; job-3 is handed out once more after its first result. */
async function feedOf(queue: JobQueue, log: string, window?: number) {
  const specs: JobSpec[] = Array.from({ length: 8 }, (_, i) => ({
    id: `job-${i}`,
    name: "sleep",
    data: { ms: 150, log },
  }));
  let handed = 0;
  let results = 0;
  let most = 0;
  let again = false;
  const pending = [...specs];
  let wake: (() => void) | undefined;
  const feed: JobFeed = {
    async next() {
      for (;;) {
        most = Math.max(most, handed - results);
        const j = pending.shift();
        if (j) {
          handed++;
          return j;
        }
        if (results >= specs.length + 1) return undefined;
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    },
  };
  const got: JobResult[] = [];
  await queue.feed(
    feed,
    (r) => {
      got.push(r);
      results++;
      if (r.id === "job-3" && !again) {
        again = true;
        pending.push(specs[3]!);
      }
      wake?.();
    },
    { window },
  );
  return { got, most };
}

describe("JobQueue.feed", () => {
  it("BullMQ keeps at most `window` jobs outstanding; each result once; an id handed out again runs again", async () => {
    const ws = Array.from({ length: 2 }, () =>
      spawnCli([
        "worker",
        "--redis",
        redis.url,
        "--queue",
        "feed",
        "--work-dir",
        join(dir, "w"),
        "--concurrency",
        "2",
      ]),
    );
    procs.push(...ws);
    await Promise.all(ws.map((w) => w.waitFor(/ready/, 60_000)));
    const log = join(dir, "bull.log");
    const q = new BullQueue({ url: redis.url, queue: "feed", runId: "feedtest" });
    try {
      const { got, most } = await feedOf(q, log, 3);
      expect(got.map((r) => r.id).sort()).toEqual([0, 1, 2, 3, 3, 4, 5, 6, 7].map((i) => `job-${i}`).sort());
      expect(got.every((r) => r.ok)).toBe(true);
      expect(most).toBeLessThanOrEqual(3);
      const starts = readFileSync(log, "utf8")
        .split("\n")
        .filter((l) => l.startsWith("start"));
      expect(starts).toHaveLength(9);
    } finally {
      await q.close();
    }
    for (const w of ws) w.proc.kill("SIGTERM");
    await Promise.all(ws.map((w) => w.exited));
  }, 120_000);

  it("the in-process queue takes as many as its concurrency", async () => {
    const log = join(dir, "mem.log");
    const { got, most } = await feedOf(
      new MemoryQueue({ handlers: { sleep: sleepHandler }, concurrency: 2 }),
      log,
    );
    expect(got).toHaveLength(9);
    expect(most).toBeLessThanOrEqual(2);
  });
});
