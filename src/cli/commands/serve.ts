import type { Command } from "commander";
import { InputError } from "../../evaluate/inputs.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { ServeError } from "../../serve/errors.ts";
import { DEFAULT_CONFIG, type Service, startService } from "../../serve/service.ts";
import { parseSize } from "../../util/size.ts";
import { CliError, Exit } from "../exit-codes.ts";

interface ServeOpts {
  dataset: string[];
  host: string;
  port: string;
  token?: string;
  redis?: string;
  redisPrefix?: string;
  advertise?: string;
  sandbox: string;
  maxSessions: string;
  maxGrading: string;
  memory: string;
  pids: string;
  lifetime: string;
  idleTimeout: string;
  execTimeout: string;
  gradeTimeout: string;
  allowNetwork?: boolean;
  warm: string;
  warmMax: string;
  prewarm?: string;
  maxOutputBytes: string;
  maxFileBytes: string;
  maxUploadBytes: string;
}

function int(v: string, flag: string, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`${flag} must be an integer of at least ${min}, got "${v}"`, Exit.usage);
  return n;
}

function bytes(v: string, flag: string): number {
  try {
    return parseSize(v);
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`, Exit.usage);
  }
}

function config(o: ServeOpts) {
  if (o.memory !== "none") bytes(o.memory, "--memory");
  return {
    limits: {
      ...(o.memory === "none" ? {} : { memory: o.memory }),
      pids: int(o.pids, "--pids", 16),
      lifetimeS: int(o.lifetime, "--lifetime"),
      idleS: int(o.idleTimeout, "--idle-timeout"),
      execTimeoutS: int(o.execTimeout, "--exec-timeout"),
    },
    allowNetwork: !!o.allowNetwork,
    maxSessions: int(o.maxSessions, "--max-sessions"),
    maxGrading: int(o.maxGrading, "--max-grading"),
    gradeTimeoutS: int(o.gradeTimeout, "--grade-timeout"),
    warm: { perSpec: int(o.warm, "--warm", 0), max: int(o.warmMax, "--warm-max", 0) },
    outputCapBytes: bytes(o.maxOutputBytes, "--max-output-bytes"),
    maxFileBytes: bytes(o.maxFileBytes, "--max-file-bytes"),
    maxUploadBytes: bytes(o.maxUploadBytes, "--max-upload-bytes"),
  };
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description(
      "Serve datasets as an RL environment API: sessions, commands, files, submit → reward (docs/serve.md)",
    )
    .requiredOption("--dataset <path...>", "dataset.jsonl or export folder (repeat for more)")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on (0 = any free one)", "8700")
    .option("--token <token>", "bearer token every request must carry (default: SWEU_SERVE_TOKEN)")
    .option("--redis <url>", "register in Redis with the other serve processes of this service")
    .option("--redis-prefix <prefix>", "key prefix shared by the processes of one service", "sweu:serve")
    .option("--advertise <url>", "this process's URL as the others reach it (default http://<host>:<port>)")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--max-sessions <n>", "sessions this process holds at once", String(DEFAULT_CONFIG.maxSessions))
    .option("--max-grading <n>", "submissions graded at once", String(DEFAULT_CONFIG.maxGrading))
    .option("--memory <size>", 'memory limit per session ("none" = no limit)', DEFAULT_CONFIG.limits.memory)
    .option("--pids <n>", "process limit per session", String(DEFAULT_CONFIG.limits.pids))
    .option(
      "--lifetime <sec>",
      "a session is closed this long after its start",
      String(DEFAULT_CONFIG.limits.lifetimeS),
    )
    .option(
      "--idle-timeout <sec>",
      "a session is closed after this long without a request",
      String(DEFAULT_CONFIG.limits.idleS),
    )
    .option(
      "--exec-timeout <sec>",
      "default and longest time of one command",
      String(DEFAULT_CONFIG.limits.execTimeoutS),
    )
    .option(
      "--grade-timeout <sec>",
      "evaluation.sh's time limit when grading (as evaluate --timeout)",
      String(DEFAULT_CONFIG.gradeTimeoutS),
    )
    .option("--allow-network", "let sessions ask for network (off unless asked)")
    .option(
      "--warm <n>",
      "started containers kept ready per image in use (0 = none)",
      String(DEFAULT_CONFIG.warm.perSpec),
    )
    .option("--warm-max <n>", "ready containers across all images", String(DEFAULT_CONFIG.warm.max))
    .option("--prewarm <ids>", 'fill the warm pool of these instances at start (comma-separated, or "all")')
    .option("--max-output-bytes <size>", "output of one command returned (first and last halves)", "64k")
    .option("--max-file-bytes <size>", "largest file a read returns", "1m")
    .option("--max-upload-bytes <size>", "largest file written or patch submitted", "8m")
    .action(async (opts: ServeOpts) => {
      const token = opts.token ?? process.env.SWEU_SERVE_TOKEN;
      if (!token) throw new CliError("a token is required: --token or SWEU_SERVE_TOKEN", Exit.usage);
      const port = int(opts.port, "--port", 0);
      let sandbox: ReturnType<typeof createSandbox>;
      try {
        sandbox = createSandbox(opts.sandbox);
        await sandbox.imageExists("localhost/sweu-preflight:none");
      } catch (e) {
        throw new CliError(`container engine unavailable: ${(e as Error).message}`, Exit.unavailable);
      }
      let service: Service;
      try {
        service = await startService({
          datasets: opts.dataset,
          sandbox,
          token,
          host: opts.host,
          port,
          ...(opts.advertise ? { advertise: opts.advertise } : {}),
          ...(opts.redis ? { redis: { url: opts.redis, prefix: opts.redisPrefix } } : {}),
          config: config(opts),
          bodyLimit: bytes(opts.maxUploadBytes, "--max-upload-bytes") * 2 + 64 * 1024,
          ...(opts.prewarm
            ? { prewarm: opts.prewarm === "all" ? "all" : opts.prewarm.split(",").filter(Boolean) }
            : {}),
        });
      } catch (e) {
        if (e instanceof InputError) throw new CliError(e.message, Exit.input);
        if (e instanceof ServeError && e.code === "unknown_instance")
          throw new CliError(e.message, Exit.input);
        throw e;
      }
      const say = (s: string) => process.stderr.write(`serve ${service.node}: ${s}\n`);
      if (service.reaped.length) say(`removed ${service.reaped.length} container(s) left by dead processes`);
      say(`${service.manager.instances.size} task(s); OpenAPI at ${service.url}/openapi.json`);
      // One line on stdout for whoever started this process: where it listens.
      process.stdout.write(`${JSON.stringify({ url: service.url, node: service.node, pid: process.pid })}\n`);
      await new Promise<void>((done) => {
        const stop = (sig: string) => {
          say(`${sig}: closing sessions and stopping`);
          void service
            .close()
            .then(() => sandbox.cleanup())
            .finally(done);
        };
        process.once("SIGTERM", () => stop("SIGTERM"));
        process.once("SIGINT", () => stop("SIGINT"));
      });
    });
}
