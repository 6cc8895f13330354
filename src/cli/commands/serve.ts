import type { Command } from "commander";
import { InputError } from "../../evaluate/inputs.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { ServeError } from "../../serve/errors.ts";
import { DEFAULT_CONFIG, type Service, startService } from "../../serve/service.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { parsed } from "../options.ts";
import { assertEngineAnswers, assertRedisReachable } from "../preflight.ts";
import { interruptedBy, onInterrupt } from "../signals.ts";

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

/** Values `checkOptions` (src/cli/options.ts) has already accepted, converted. */
function configOf(o: ServeOpts) {
  const n = (key: keyof ServeOpts) => parsed<number>(key, String(o[key]));
  return {
    limits: {
      memory: o.memory,
      pids: n("pids"),
      lifetimeS: n("lifetime"),
      idleS: n("idleTimeout"),
      execTimeoutS: n("execTimeout"),
    },
    allowNetwork: !!o.allowNetwork,
    maxSessions: n("maxSessions"),
    maxGrading: n("maxGrading"),
    gradeTimeoutS: n("gradeTimeout"),
    warm: { perSpec: n("warm"), max: n("warmMax") },
    outputCapBytes: n("maxOutputBytes"),
    maxFileBytes: n("maxFileBytes"),
    maxUploadBytes: n("maxUploadBytes"),
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
    .option("--memory <size>", "memory limit per session", DEFAULT_CONFIG.limits.memory)
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
      const cfg = configOf(opts);
      let sandbox: ReturnType<typeof createSandbox>;
      try {
        sandbox = createSandbox(opts.sandbox);
      } catch (e) {
        throw new CliError(`container engine unavailable: ${(e as Error).message}`, Exit.unavailable);
      }
      await assertEngineAnswers(sandbox);
      if (opts.redis) await assertRedisReachable(opts.redis);
      const service = await start(opts, sandbox, token, cfg);
      const say = (s: string) => process.stderr.write(`serve ${service.node}: ${s}\n`);
      if (service.reaped.length) say(`removed ${service.reaped.length} container(s) left by dead processes`);
      say(`${service.manager.instances.size} task(s); OpenAPI at ${service.url}/openapi.json`);
      // One line on stdout for whoever started this process: where it listens.
      process.stdout.write(`${JSON.stringify({ url: service.url, node: service.node, pid: process.pid })}\n`);
      // At SIGTERM/SIGINT: close every session (its container removed, its clients see 503), leave the
      // cluster, exit 143/130. When that cannot finish, the signal boundary stops everything after 10 s.
      await new Promise<void>((done) => {
        onInterrupt(async () => {
          say(`${interruptedBy()}: closing sessions and stopping`);
          await service.close();
          await sandbox.cleanup();
          done();
        }, 10_000);
      });
    });
}

async function start(
  opts: ServeOpts,
  sandbox: ReturnType<typeof createSandbox>,
  token: string,
  config: ReturnType<typeof configOf>,
): Promise<Service> {
  const prewarm = opts.prewarm === undefined ? undefined : parsed<string[] | "all">("prewarm", opts.prewarm);
  try {
    return await startService({
      datasets: opts.dataset,
      sandbox,
      token,
      host: opts.host,
      port: parsed<number>("port", opts.port),
      ...(opts.advertise ? { advertise: opts.advertise } : {}),
      ...(opts.redis ? { redis: { url: opts.redis, prefix: opts.redisPrefix } } : {}),
      config,
      bodyLimit: config.maxUploadBytes * 2 + 64 * 1024,
      ...(prewarm ? { prewarm } : {}),
    });
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, Exit.input);
    if (e instanceof ServeError && e.code === "unknown_instance") throw new CliError(e.message, Exit.input);
    throw e;
  }
}
