import { resolve } from "node:path";
import type { Command } from "commander";
import { exportRun } from "../../export/index.ts";
import { openRunStore } from "../../export/run-dir.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { renderSynthReport, writeSynthReport } from "../../synth/report.ts";
import { STRATEGIES } from "../../synth/strategies.ts";
import { type SynthEvent, type SynthOptions, synthesize } from "../../synth/synth.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { cpus } from "./build-options.ts";

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
}

const positive = (v: string, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${name} must be a positive integer, got "${v}"`, Exit.usage);
  return n;
};

/** The strategies a comma-separated list names; a usage error for a name not in the table. */
export function strategyList(text: string | undefined): string[] | undefined {
  if (!text) return undefined;
  const names = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !STRATEGIES[n]);
  if (unknown.length)
    throw new CliError(
      `unknown strategy ${unknown.join(", ")} (known: ${Object.keys(STRATEGIES).join(", ")})`,
      Exit.usage,
    );
  return names;
}

/** The synth options shared by `synth` and `run --synth`. */
export function synthOptionsOf(
  opts: Pick<SynthOpts, "strategies" | "perStrategy" | "maxEnvironments" | "seed">,
): Pick<SynthOptions, "strategies" | "perStrategy" | "maxEnvironments" | "seed"> {
  return {
    strategies: strategyList(opts.strategies),
    perStrategy: positive(opts.perStrategy, "--per-strategy"),
    maxEnvironments: opts.maxEnvironments ? positive(opts.maxEnvironments, "--max-environments") : undefined,
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
    .option("--json", "print the report as JSON");
  addSynthOptions(cmd).action(async (opts: SynthOpts) => {
    const picked = synthOptionsOf(opts);
    const runDir = resolve(opts.runDir);
    const store = openRunStore(runDir);
    if (!store) throw new CliError(`no run at ${runDir}`, Exit.input);
    let sandbox: ReturnType<typeof createSandbox>;
    try {
      sandbox = createSandbox(opts.sandbox);
    } catch (e) {
      throw new CliError(e instanceof Error ? e.message : String(e), Exit.unavailable);
    }
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once("SIGINT", stop);
    try {
      // Every bug's image is built on an environment's instance image: no base image is needed.
      await sandbox.reapOrphans();
      const summary = await synthesize(store, sandbox, {
        sandbox,
        ...picked,
        gitDir: opts.repo ? resolve(opts.repo) : undefined,
        only: opts.only?.split(",").map((s) => s.trim()),
        runsPerState: positive(opts.runs, "--runs"),
        testTimeoutMs: positive(opts.testTimeout, "--test-timeout") * 1000,
        loadProbeCpus: cpus(opts.loadProbeCpus, "--load-probe-cpus"),
        skipProbes: opts.skipProbes,
        model: modelFromConfig({ model: opts.model, baseURL: opts.baseUrl }),
        signal: controller.signal,
        onEvent: opts.json ? undefined : printSynthEvent,
      });
      const report = writeSynthReport(store, runDir);
      exportRun(store, runDir);
      if (opts.json) process.stdout.write(`${JSON.stringify({ summary, report }, null, 2)}\n`);
      else process.stdout.write(`${renderSynthReport(report)}\nreport: ${runDir}/synth.md\n`);
      if (controller.signal.aborted) process.exitCode = Exit.interrupted;
    } finally {
      process.off("SIGINT", stop);
      store.close();
      await sandbox.cleanup();
    }
  });
}
