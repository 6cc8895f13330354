/**
 * A simulated 100,000-candidate run through the queue: enqueue, a trivial job (sleep 0), collect each
 * result into SQLite (one Rejection record per job, as a real run writes one outcome per task). Once with
 * the in-process queue, once with BullMQ on a local redis-server (started and stopped here) and worker
 * processes of the real CLI. Prints throughput and peak RSS.
 *
 *   node bench/queue.bench.ts [N] [--workers W] [--concurrency C] [--only memory|bullmq]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BullQueue } from "../src/queue/bullmq.ts";
import { MemoryQueue } from "../src/queue/memory.ts";
import type { JobQueue, JobResult } from "../src/queue/queue.ts";
import { sleepHandler } from "../src/run/jobs.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { spawnCli } from "../test/queue/cli.ts";
import { startRedis } from "../test/queue/redis.ts";
import { fmt, peakRssMb } from "./lib.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    workers: { type: "string", default: "2" },
    concurrency: { type: "string", default: "50" },
    only: { type: "string" },
  },
});
const N = Number(positionals[0] ?? 100_000);

async function through(q: JobQueue, label: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "sweu-bench-q-"));
  const store = new SqliteStore(join(dir, "store.sqlite"));
  const jobs = Array.from({ length: N }, (_, i) => ({ id: `bench__q-${i}`, name: "sleep", data: { ms: 0 } }));
  let enqueuedAt = 0;
  const t0 = performance.now();
  let n = 0;
  await q.run(
    jobs,
    (r: JobResult) => {
      store.putRejection({
        id: r.id,
        repo: "bench/q",
        number: Number(r.id.split("-").pop()) + 1,
        stage: "build",
        reason: "sandbox_error",
        detail: r.ok ? "done" : r.error,
        at: new Date().toISOString(),
      });
      n++;
    },
    { onEnqueued: () => (enqueuedAt = performance.now()) },
  );
  const t1 = performance.now();
  const rows = store.listRejections().length;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${label}: ${N} jobs, enqueued in ${fmt((enqueuedAt - t0) / 1000)} s, all collected in ${fmt((t1 - t0) / 1000)} s → ` +
      `${fmt(N / ((t1 - t0) / 1000), 0)} jobs/s; ${rows} rows in SQLite (${n} results); coordinator peak RSS ${fmt(peakRssMb(), 0)} MB`,
  );
}

if (values.only !== "bullmq") {
  await through(new MemoryQueue({ handlers: { sleep: sleepHandler }, concurrency: 64 }), "in-process");
}
if (values.only !== "memory") {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "sweu-bench-w-"));
  const workers = Array.from({ length: Number(values.workers) }, () =>
    spawnCli([
      "worker",
      "--redis",
      redis.url,
      "--queue",
      "bench",
      "--concurrency",
      values.concurrency!,
      "--work-dir",
      dir,
    ]),
  );
  await Promise.all(workers.map((w) => w.waitFor(/ready/, 60_000)));
  try {
    const q = new BullQueue({ url: redis.url, queue: "bench", runId: "bench", sweepMs: 5000 });
    await through(q, `bullmq (${values.workers} worker processes × ${values.concurrency})`);
    await q.close();
  } finally {
    for (const w of workers) w.proc.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
    await redis.stop();
  }
}
