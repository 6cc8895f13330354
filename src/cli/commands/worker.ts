import { resolve } from "node:path";
import type { Command } from "commander";
import { startWorker } from "../../queue/bullmq-worker.ts";
import { jobHandlers } from "../../run/jobs.ts";
import { diskGuard } from "../../run/pipeline.ts";
import { reapOrphans } from "../../run/reap.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";
import { interruptedBy, onInterrupt } from "../signals.ts";
import { size } from "./build-options.ts";

interface WorkerOpts {
  redis: string;
  queue?: string;
  concurrency: string;
  workDir: string;
  sandbox: string;
  lockTimeout: string;
  rate?: string;
  minFreeDisk: string;
}

const positive = (v: string, name: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new CliError(`${name} must be a positive number, got "${v}"`, Exit.usage);
  return n;
};

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("Run queued tasks from Redis (BullMQ) until stopped; start any number, on any machines")
    .requiredOption("--redis <url>", "Redis URL, e.g. redis://host:6379")
    .option("--queue <name>", "tasks queue name (default sweu-tasks)")
    .option("--concurrency <n>", "jobs at once in this worker", "1")
    .option("--work-dir <dir>", "scratch folder (clones, build contexts, environment cache)", ".sweu/worker")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option(
      "--lock-timeout <sec>",
      "a job held by a dead worker goes back to the queue after this long",
      "30",
    )
    .option("--rate <max/sec>", "jobs started per second across all workers of the queue, e.g. 5/1")
    .option(
      "--min-free-disk <size>",
      "hand jobs back and take none while the work folder or the engine's storage has less free space",
      "1G",
    )
    .action(async (opts: WorkerOpts) => {
      let limiter: { max: number; durationMs: number } | undefined;
      if (opts.rate) {
        const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(opts.rate);
        if (!m) throw new CliError(`--rate must look like MAX/SECONDS, got "${opts.rate}"`, Exit.usage);
        limiter = { max: Number(m[1]), durationMs: Number(m[2]) * 1000 };
      }
      let sandbox: ReturnType<typeof createSandbox>;
      try {
        sandbox = createSandbox(opts.sandbox);
      } catch (e) {
        throw new CliError(e instanceof Error ? e.message : String(e), Exit.unavailable);
      }
      await assertEngineAnswers(sandbox);
      await reapOrphans(sandbox).catch(() => []);
      const say = (s: string) => process.stderr.write(`worker ${process.pid}: ${s}\n`);
      const disk = await diskGuard(sandbox, {
        runDir: resolve(opts.workDir),
        minFreeDisk: size(opts.minFreeDisk, "--min-free-disk"),
      });
      // A refused push hands the job back and pauses this worker a while (doubling), so others take its jobs.
      let registryUntil = 0;
      let registryWait = 15_000;
      const registry = () =>
        Date.now() < registryUntil
          ? `registry pushes refused here: waiting until ${new Date(registryUntil).toISOString()}`
          : undefined;
      const handle = startWorker({
        url: opts.redis,
        queue: opts.queue,
        concurrency: Math.floor(positive(opts.concurrency, "--concurrency")),
        lockMs: positive(opts.lockTimeout, "--lock-timeout") * 1000,
        limiter,
        handlers: jobHandlers({ sandbox, workDir: resolve(opts.workDir), canHandBack: true }),
        shortage: () => disk.shortage() ?? registry(),
        shortageCheckMs: Math.min(disk.checkMs, 5_000),
        onShortage: (kind) => {
          if (kind !== "registry") return;
          registryUntil = Date.now() + registryWait;
          registryWait = Math.min(registryWait * 2, 600_000);
        },
        onEvent: (e) => say(`${e.type} ${e.id}${e.detail ? ` (${e.detail})` : ""}`),
      });
      handle.worker.on("ready", () => say("ready"));
      // At SIGTERM/SIGINT: hand running jobs back, then exit 143/130 as every verb does. With Redis or the
      // engine gone, that cannot finish: after the grace period the process stops anyway, children and
      // containers included.
      await new Promise<void>((done) => {
        onInterrupt(async () => {
          say(`${interruptedBy()}: handing running jobs back and stopping`);
          await handle.shutdown();
          await sandbox.cleanup();
          done();
        }, 5_000);
      });
      say("stopped");
    });
}
