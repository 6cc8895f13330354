import { resolve } from "node:path";
import type { Command } from "commander";
import { createSandbox } from "../../sandbox/index.ts";
import { type RevalidateResult, revalidate } from "../../validate/revalidate.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";
import { assertRunExists, openRunFolder } from "../run-folder.ts";
import { cpus } from "./build-options.ts";

interface ValidateOpts {
  runDir: string;
  repo?: string;
  only?: string;
  runs: string;
  rebuild?: boolean;
  sandbox: string;
  skipProbes?: boolean;
  loadProbeCpus: string;
  json?: boolean;
  wait?: boolean;
}

/**
 * Re-validate stored instances: optionally rebuild each image from its Dockerfile, then run both states
 * N times in fresh containers and the probes again. An instance that no longer holds becomes a rejection.
 */
export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("Re-validate a run's instances: rebuild from the Dockerfile, N fresh runs per state, probes")
    .requiredOption("--run-dir <dir>", "run folder")
    .option("--repo <path>", "local clone holding the commits (default: the one recorded by the run)")
    .option("--only <ids>", "comma-separated instance ids")
    .option("--runs <n>", "runs per state", "3")
    .option("--rebuild", "rebuild each image from its Dockerfile first")
    .option("--skip-probes", "skip the dynamic probes: hacking and load (faster, weaker)")
    .option("--load-probe-cpus <n>", "CPU quota of the load probe; 0 = off", "0.25")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--no-wait", "fail at once (exit 4) when another process holds the run folder")
    .option("--json", "print results as JSON")
    .action(async (opts: ValidateOpts) => {
      const runDir = resolve(opts.runDir);
      const sandbox = createSandbox(opts.sandbox);
      assertRunExists(runDir);
      await assertEngineAnswers(sandbox);
      const folder = await openRunFolder(runDir, { verb: "validate", wait: opts.wait });
      const store = folder.store;
      const only = opts.only?.split(",").map((s) => s.trim());
      const o = {
        sandbox,
        runsPerState: Number(opts.runs),
        skipProbes: opts.skipProbes,
        loadProbeCpus: opts.skipProbes ? 0 : cpus(opts.loadProbeCpus, "--load-probe-cpus"),
        rebuildFrom: opts.rebuild
          ? (repo: string) => (opts.repo ? resolve(opts.repo) : store.getMeta(`git_dir:${repo}`))
          : undefined,
      };
      const results: RevalidateResult[] = [];
      try {
        for (const inst of store.listInstances()) {
          if (only && !only.includes(inst.instance_id)) continue;
          let r: RevalidateResult;
          try {
            r = await revalidate(store, inst, o);
          } catch (e) {
            if (/does not say where/.test((e as Error).message))
              throw new CliError((e as Error).message, Exit.input);
            throw e;
          }
          results.push(r);
          if (!opts.json) process.stderr.write(`${r.id}: ${r.ok ? "valid" : `invalid (${r.reason})`}\n`);
        }
      } finally {
        folder.close();
        await sandbox.cleanup();
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      else process.stdout.write(`${results.filter((r) => r.ok).length}/${results.length} instances valid\n`);
      if (results.some((r) => !r.ok)) process.exitCode = Exit.failed;
    });
}
