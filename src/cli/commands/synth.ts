import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { exportRun } from "../../export/index.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { createSandbox } from "../../sandbox/index.ts";
import type { SqliteStore } from "../../store/sqlite.ts";
import { renderSynthReport, writeSynthReport } from "../../synth/report.ts";
import { STRATEGIES } from "../../synth/strategies.ts";
import { type SynthEvent, type SynthOptions, synthesize } from "../../synth/synth.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";
import { assertCloneOf, assertRunExists, openRunFolder } from "../run-folder.ts";
import { graceOnInterrupt, interruption } from "../signals.ts";

interface SynthOpts {
  runDir: string;
  repo?: string;
  strategies?: string;
  perStrategy: string;
  maxEnvironments?: string;
  only?: string;
  runs: string;
  testTimeout: string;
  loadProbeCpus: string;
  skipProbes?: boolean;
  seed: string;
  model?: string;
  baseUrl?: string;
  sandbox: string;
  json?: boolean;
  wait?: boolean;
}

/** The strategies a comma-separated list names (options.ts has checked each is in the table). */
export function strategyList(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The synth options shared by `synth` and `run --synth`. */
export function synthOptionsOf(
  opts: Pick<SynthOpts, "strategies" | "perStrategy" | "maxEnvironments" | "seed">,
): Pick<SynthOptions, "strategies" | "perStrategy" | "maxEnvironments" | "seed"> {
  return {
    strategies: strategyList(opts.strategies),
    perStrategy: Number(opts.perStrategy),
    maxEnvironments: opts.maxEnvironments ? Number(opts.maxEnvironments) : undefined,
    seed: opts.seed,
  };
}

/** One line per event on stderr. */
export function printSynthEvent(e: SynthEvent): void {
  if (e.type === "environment")
    process.stderr.write(
      `environment ${e.key} (at ${e.source}): ${e.proposed} candidates; verifier: ${e.baseline}\n`,
    );
  else if (e.type === "skipped")
    process.stderr.write(`environment ${e.key} skipped: ${e.why.slice(0, 300)}\n`);
  else {
    const r = e.record;
    const what = r.outcome === "instance" ? "synthetic instance" : `rejected (${r.reason})`;
    process.stderr.write(
      `  [${e.index + 1}/${e.total}] ${r.id}: ${what} in ${(r.wall_ms / 1000).toFixed(1)}s\n`,
    );
  }
}

export function addSynthOptions(cmd: Command, prefix = ""): Command {
  return cmd
    .option(
      `--${prefix}strategies <names>`,
      `comma-separated strategies (default: all that can run; ${Object.keys(STRATEGIES).join(", ")})`,
    )
    .option(`--${prefix}per-strategy <n>`, "candidates proposed per strategy and environment", "6")
    .option(`--${prefix}max-environments <n>`, "at most this many environments (newest first)")
    .option(`--${prefix}seed <text>`, "seed of the strategies' choices", "sweu");
}

/** `--repo`: a clone holding the commits the run recorded (bad input otherwise). */
async function checkRepo(store: SqliteStore, runDir: string, repo: string | undefined) {
  if (!repo) return undefined;
  const dir = resolve(repo);
  if (!existsSync(join(dir, ".git")) && !existsSync(join(dir, "HEAD")))
    throw new CliError(`--repo ${dir} is not a git repository`, Exit.input);
  for (const r of store.repos()) await assertCloneOf(store, r, dir, runDir);
  return dir;
}

export function registerSynth(program: Command): void {
  const cmd = program
    .command("synth")
    .description(
      "Inject bugs into a run's validated environments and keep those that validate as synthetic instances",
    )
    .requiredOption("--run-dir <dir>", "run folder")
    .option("--repo <path>", "local clone holding the history (default: the one recorded by the run)")
    .option("--only <ids>", "comma-separated environment keys or source instance ids")
    .option("--runs <n>", "validation runs per state", "3")
    .option(
      "--test-timeout <sec>",
      "longest one evaluation run may take (bugs get a few times the environment's own)",
      "900",
    )
    .option("--load-probe-cpus <n>", "CPU quota of the environment's load run; 0 = off", "0.25")
    .option("--skip-probes", "skip the probes (faster, weaker; inverse mutation still runs)")
    .option(
      "--model <name>",
      "model for the llm-rewrite strategy and problem statements (default SWEU_MODEL)",
    )
    .option("--base-url <url>", "OpenAI-compatible endpoint (default SWEU_MODEL_BASE_URL)")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--no-wait", "fail at once (exit 4) when another process holds the run folder")
    .option("--json", "print the report as JSON");
  addSynthOptions(cmd).action(async (opts: SynthOpts) => {
    const picked = synthOptionsOf(opts);
    const runDir = resolve(opts.runDir);
    const sandbox = createSandbox(opts.sandbox);
    assertRunExists(runDir);
    await assertEngineAnswers(sandbox);
    const folder = await openRunFolder(runDir, { verb: "synth", wait: opts.wait });
    const store = folder.store;
    // At a signal, no new candidate is started; what is recorded stays, a rerun goes on from there.
    graceOnInterrupt(3000);
    try {
      const gitDir = await checkRepo(store, runDir, opts.repo);
      // Every bug's image is built on an environment's instance image: no base image is needed.
      await sandbox.reapOrphans();
      const summary = await synthesize(store, sandbox, {
        sandbox,
        ...picked,
        gitDir,
        only: opts.only?.split(",").map((s) => s.trim()),
        runsPerState: Number(opts.runs),
        testTimeoutMs: Number(opts.testTimeout) * 1000,
        loadProbeCpus: Number(opts.loadProbeCpus),
        skipProbes: opts.skipProbes,
        model: modelFromConfig({ model: opts.model, baseURL: opts.baseUrl }),
        signal: interruption,
        onEvent: opts.json ? undefined : printSynthEvent,
      });
      if (summary.environments.length === 0 && !opts.json)
        process.stderr.write(
          `swe-universe: no validated environment in ${runDir}${opts.only ? " matches --only" : ""}: nothing to inject bugs into\n`,
        );
      const report = writeSynthReport(store, runDir);
      exportRun(store, runDir);
      if (opts.json) process.stdout.write(`${JSON.stringify({ summary, report }, null, 2)}\n`);
      else process.stdout.write(`${renderSynthReport(report)}\nreport: ${runDir}/synth.md\n`);
      if (interruption.aborted) process.exitCode = Exit.interrupted;
    } finally {
      folder.close();
      await sandbox.cleanup();
    }
  });
}
