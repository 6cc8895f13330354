import { resolve } from "node:path";
import type { Command } from "commander";
import { buildPending } from "../../run/pipeline.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";
import { assertCloneOf, assertRunExists, openRunFolder } from "../run-folder.ts";
import { interruption } from "../signals.ts";
import { addBuildOptions, builderOf, cpus, size } from "./build-options.ts";

interface BuildOpts {
  testTimeout: string;
  buildTimeout: string;
  builder?: string;
  model?: string;
  baseUrl?: string;
  runDir: string;
  repo?: string;
  only?: string;
  runs: string;
  maxAttempts: string;
  sandbox: string;
  skipProbes?: boolean;
  loadProbeCpus: string;
  reuse?: boolean;
  statementWriter?: boolean;
  workers: string;
  retry?: boolean;
  registry?: string;
  minFreeDisk: string;
  json?: boolean;
  wait?: boolean;
}

export function registerBuild(program: Command): void {
  const cmd = program
    .command("build")
    .description("Build and validate environments for the mined tasks of a run that have no outcome yet")
    .requiredOption("--run-dir <dir>", "run folder made by `mine` or `run`")
    .option("--repo <path>", "local clone holding the commits (default: the one recorded by the run)")
    .option("--retry", "forget earlier build/validate rejections of the selected tasks and try again");
  addBuildOptions(cmd).action(async (opts: BuildOpts) => {
    const { model, builder } = builderOf(opts);
    const runDir = resolve(opts.runDir);
    const sandbox = createSandbox(opts.sandbox);
    assertRunExists(runDir);
    await assertEngineAnswers(sandbox);
    const folder = await openRunFolder(runDir, { verb: "build", wait: opts.wait });
    const store = folder.store;
    try {
      const only = opts.only?.split(",").map((s) => s.trim());
      const repos = [...new Set(store.listTasks().map((t) => t.repo))];
      // A --repo that is another repository would turn every task into a rejection: refuse it first.
      if (opts.repo) for (const repo of repos) await assertCloneOf(store, repo, resolve(opts.repo), runDir);
      if (opts.retry) {
        for (const r of store.listRejections())
          if ((r.stage === "build" || r.stage === "validate") && (!only || only.includes(r.id)))
            store.deleteRejection(r.id);
      }
      const results = [];
      for (const repo of repos) {
        const gitDir = opts.repo ? resolve(opts.repo) : store.getMeta(`git_dir:${repo}`);
        if (!gitDir)
          throw new CliError(`the run does not say where ${repo} is cloned; pass --repo <path>`, Exit.input);
        results.push(
          await buildPending(store, sandbox, {
            builder,
            model,
            runDir,
            repo,
            gitDir,
            only,
            signal: interruption,
            runsPerState: Number(opts.runs),
            maxAttempts: Number(opts.maxAttempts),
            skipProbes: opts.skipProbes,
            loadProbeCpus: cpus(opts.loadProbeCpus, "--load-probe-cpus"),
            reuse: opts.reuse,
            writeStatements: opts.statementWriter,
            registry: opts.registry,
            testTimeoutMs: Number(opts.testTimeout) * 1000,
            buildTimeoutMs: Number(opts.buildTimeout) * 1000,
            workers: Number(opts.workers),
            minFreeDisk: size(opts.minFreeDisk, "--min-free-disk"),
            onEvent: (e) => {
              if (e.type === "paused" || e.type === "resumed")
                process.stderr.write(
                  e.type === "paused" ? `paused: ${e.why}\n` : `resumed after ${(e.ms / 1000).toFixed(0)}s\n`,
                );
              if (e.type === "task-failed" && !opts.json)
                process.stderr.write(`${e.id}: not built, stays pending: ${e.detail}\n`);
              if (e.type === "task-end" && !opts.json)
                process.stderr.write(
                  `${e.id}: ${e.outcome}${e.reason ? ` (${e.reason})` : ""} in ${(e.ms / 1000).toFixed(1)}s\n`,
                );
            },
          }),
        );
      }
      const built = results.reduce((n, r) => n + r.built, 0);
      const instances = results.reduce((n, r) => n + r.instances, 0);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ built, instances, rejected: built - instances })}\n`);
      else
        process.stdout.write(`built ${built} tasks: ${instances} instances, ${built - instances} rejected\n`);
    } finally {
      folder.close();
      await sandbox.cleanup();
    }
  });
}
