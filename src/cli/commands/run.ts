import cliProgress from "cli-progress";
import type { Command } from "commander";
import { renderFunnelSummary } from "../../export/funnel.ts";
import { SourceError } from "../../mine/errors.ts";
import { BullQueue } from "../../queue/bullmq.ts";
import { runIdOf } from "../../run/dispatch.ts";
import { type PipelineEvent, type PipelineSummary, runPipeline } from "../../run/pipeline.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers, assertRedisReachable } from "../preflight.ts";
import { assertFolderHolds, type OpenRun, openRunFolder } from "../run-folder.ts";
import { interruption } from "../signals.ts";
import { addBuildOptions, builderOf, cpus, size } from "./build-options.ts";
import { openSource, type SourceFlags } from "./source.ts";
import { addSynthOptions, printSynthEvent, synthOptionsOf } from "./synth.ts";

interface RunOpts extends SourceFlags {
  builder?: string;
  model?: string;
  baseUrl?: string;
  limit?: string;
  since?: string;
  runs: string;
  maxAttempts: string;
  testTimeout: string;
  buildTimeout: string;
  sandbox: string;
  skipProbes?: boolean;
  loadProbeCpus: string;
  reuse?: boolean;
  keepWork?: boolean;
  only?: string;
  json?: boolean;
  workers?: string;
  redis?: string;
  queue?: string;
  registry?: string;
  minFreeDisk: string;
  progress?: boolean;
  statementWriter?: boolean;
  qualityChecks?: boolean;
  wait?: boolean;
  synth?: boolean;
  synthStrategies?: string;
  synthPerStrategy: string;
  synthMaxEnvironments?: string;
  synthSeed: string;
}

const int = (v: string, name: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${name} must be a positive integer, got "${v}"`, Exit.usage);
  return n;
};

/**
 * Everything `run` needs before it starts, each checked before anything is created: Redis (with --redis),
 * the repository, the engine, then the run folder (locked, and holding no other repository).
 */
async function openInputs(repo: string, opts: RunOpts) {
  // A coordinator whose Redis does not answer gives up (exit 4) before it creates anything.
  if (opts.redis) await assertRedisReachable(opts.redis);
  let opened: Awaited<ReturnType<typeof openSource>>;
  try {
    opened = await openSource(repo, opts);
  } catch (e) {
    if (e instanceof SourceError)
      throw new CliError(e.message, e.kind === "unavailable" ? Exit.unavailable : Exit.input);
    throw e;
  }
  const { source, runDir, location } = opened;
  const sandbox = createSandbox(opts.sandbox);
  let folder: OpenRun;
  try {
    await assertEngineAnswers(sandbox);
    folder = await openRunFolder(runDir, { verb: "run", create: true, wait: opts.wait });
    await assertFolderHolds(folder.store, runDir, source.repo, source.git?.dir).catch((e) => {
      folder.close();
      throw e;
    });
  } catch (e) {
    await source.close();
    throw e;
  }
  return { source, runDir, location, sandbox, folder };
}

export function registerRun(program: Command): void {
  const cmd = program
    .command("run")
    .description("Mine a repository's merged PRs, build and validate environments, and export the dataset")
    .argument("<repo>", "local repository path or clone URL (owner/name with --github)")
    .option("--run-dir <dir>", "run folder (default: ./runs/<owner__name>)")
    .option("--repo-name <owner/name>", "name to record for the repository")
    .option(
      "--github",
      "list PRs through the GitHub API (GITHUB_TOKEN): PR bodies, linked issues and their comments; diffs from a clone",
    )
    .option("--api-url <url>", "with --github: API base URL (GitHub Enterprise); default GITHUB_API_URL")
    .option(
      "--clone-url <url|path>",
      "with --github: where to clone from (default: the repository given, else https://github.com/<repo>.git)",
    )
    .option("--limit <n>", "mine at most this many merged PRs (newest first)")
    .option("--since <date>", "only PRs merged since this date")
    .option("--keep-work", "keep each task's build context")
    .option("--no-progress", "no progress bar")
    .option("--redis <url>", "distributed: enqueue tasks for `swe-universe worker` processes on this Redis")
    .option("--queue <name>", "tasks queue name with --redis (default sweu-tasks)")
    .option(
      "--no-quality-checks",
      "with a model: do not ask it to judge each PR's quality before building (the rule-based filter still runs)",
    )
    .option("--synth", "then inject synthetic bugs into the validated environments (see `synth --help`)");
  addSynthOptions(cmd, "synth-");
  addBuildOptions(cmd).action(async (repo: string, opts: RunOpts) => {
    const { model, builder } = builderOf(opts);
    const { source, runDir, location, sandbox, folder } = await openInputs(repo, opts);
    const store = folder.store;
    const progress = runProgress(opts);
    const queue = opts.redis
      ? new BullQueue({ url: opts.redis, queue: opts.queue, runId: runIdOf(store) })
      : undefined;
    try {
      const summary = await runPipeline(source, store, sandbox, {
        signal: interruption,
        builder,
        model,
        runDir,
        workers: int(opts.workers ?? "1", "--workers"),
        queue,
        location,
        registry: opts.registry,
        limit: opts.limit ? int(opts.limit, "--limit") : undefined,
        since: opts.since,
        runsPerState: int(opts.runs, "--runs"),
        maxAttempts: int(opts.maxAttempts, "--max-attempts"),
        testTimeoutMs: int(opts.testTimeout, "--test-timeout") * 1000,
        buildTimeoutMs: int(opts.buildTimeout, "--build-timeout") * 1000,
        skipProbes: opts.skipProbes,
        loadProbeCpus: cpus(opts.loadProbeCpus, "--load-probe-cpus"),
        reuse: opts.reuse,
        keepWork: opts.keepWork,
        writeStatements: opts.statementWriter,
        qualityChecks: opts.qualityChecks,
        minFreeDisk: size(opts.minFreeDisk, "--min-free-disk"),
        only: opts.only?.split(",").map((s) => s.trim()),
        synth: opts.synth
          ? {
              ...synthOptionsOf({
                strategies: opts.synthStrategies,
                perStrategy: opts.synthPerStrategy,
                maxEnvironments: opts.synthMaxEnvironments,
                seed: opts.synthSeed,
              }),
              onEvent: opts.json ? undefined : printSynthEvent,
            }
          : undefined,
        onEvent: progress.onEvent,
      });
      progress.stop();
      printSummary(source.repo, runDir, summary, !!opts.json);
      if (summary.sourceError) {
        // An input error, said once: every task of the repository stays pending for the same command later.
        process.stderr.write(
          `swe-universe: ${summary.sourceError}. Its tasks stay pending: repair the clone (or give its URL) and run the same command again.\n`,
        );
        process.exitCode = Exit.input;
      }
    } finally {
      progress.stop();
      await queue?.close();
      folder.close();
      await source.close();
      await sandbox.cleanup();
    }
  });
}

/** The run's progress on stderr: a bar on a terminal, a line per task otherwise (none with --json). */
function runProgress(opts: RunOpts): { onEvent: (e: PipelineEvent) => void; stop: () => void } {
  const showBar = opts.progress !== false && !opts.json && process.stderr.isTTY;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          format: "{bar} {value}/{total} tasks | {instances} instances | {id}",
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let instances = 0;
  const say = (s: string) => process.stderr.write(s);
  const onEvent = (e: PipelineEvent) => {
    if (e.type === "mined")
      say(`mined: ${e.tasks} new tasks, ${e.rejections} rejected, ${e.skipped} already done\n`);
    else if (e.type === "task-start") {
      if (bar && e.index === 0) bar.start(e.total, 0, { instances, id: e.id });
      bar?.update(e.index, { instances, id: e.id });
      if (!bar && !opts.json) say(`[${e.index + 1}/${e.total}] ${e.id} …\n`);
    } else if (e.type === "paused") say(`${bar ? "\n" : ""}paused: ${e.why}\n`);
    else if (e.type === "resumed") say(`resumed after ${(e.ms / 1000).toFixed(0)}s: disk space is back\n`);
    else if (e.type === "task-failed") {
      bar?.increment(1, { instances, id: e.id });
      // A broken repository is said once, at the end.
      if (!opts.json && e.cause !== "source")
        say(`${bar ? "\n" : ""}  ${e.id}: not built, stays pending: ${e.detail}\n`);
    } else {
      if (e.outcome === "instance") instances++;
      bar?.increment(1, { instances, id: e.id });
      const what = e.outcome === "instance" ? "instance" : `rejected (${e.reason})`;
      if (!bar && !opts.json) say(`  ${e.id}: ${what} in ${(e.ms / 1000).toFixed(1)}s\n`);
    }
  };
  return { onEvent, stop: () => bar?.stop() };
}

function printSummary(repo: string, runDir: string, summary: PipelineSummary, json: boolean): void {
  const f = summary.export.funnel;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ runDir, ...summary, export: undefined, funnel: f }, null, 2)}\n`,
    );
    return;
  }
  process.stdout.write(
    `\n${repo}: ${f.candidates} candidates → ${f.tasks} tasks → ${f.instances} instances` +
      (f.yield === null ? "" : ` (yield ${(f.yield * 100).toFixed(1)}%)`) +
      `\nthis run: built ${summary.built}, ${summary.instances} new instances, ${summary.rejected} rejected` +
      `\n${renderFunnelSummary(f)}` +
      (summary.synth
        ? `\nsynthetic: ${summary.synth.tried} candidates tried, ${summary.synth.instances} synthetic instances (${runDir}/synth.md)`
        : "") +
      `\ndataset: ${summary.export.files.jsonl}\n         ${summary.export.files.parquet}\nfunnel:  ${summary.export.files.funnelMd}\n`,
  );
}
