import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { BuildSuccess } from "../../builder/builder.ts";
import { repoView, sanitisedCheckout } from "../../builder/repo.ts";
import { dependencyOverlay } from "../../builder/reuse.ts";
import { stageSiteCas } from "../../builder/site.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { parserFor } from "../../validate/parse-run.ts";
import { validate } from "../../validate/validate.ts";
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
      const results: { id: string; ok: boolean; reason?: string }[] = [];
      try {
        for (const inst of store.listInstances()) {
          if (only && !only.includes(inst.instance_id)) continue;
          const task = store.getTask(inst.instance_id);
          const env = store.getEnvironment(inst.environment_key);
          if (!task || !env) {
            results.push({ id: inst.instance_id, ok: false, reason: "missing task or environment record" });
            continue;
          }
          if (opts.rebuild) {
            const gitDir = opts.repo ? resolve(opts.repo) : store.getMeta(`git_dir:${inst.repo}`);
            if (!gitDir)
              throw new CliError(
                `the run does not say where ${inst.repo} is cloned; pass --repo`,
                Exit.input,
              );
            const ctx = mkdtempSync(join(tmpdir(), "sweu-rebuild-"));
            try {
              await sanitisedCheckout(gitDir, inst.base_commit, join(ctx, "testbed"));
              stageSiteCas(ctx);
              // The dependency files the gold patch changes, as the builder staged them (`COPY deps-overlay/`).
              const view = await repoView(gitDir, inst.base_commit);
              const overlay = await dependencyOverlay(gitDir, task.resolved_commit, inst.patch, view);
              for (const [f, content] of Object.entries(overlay.files)) {
                mkdirSync(dirname(join(ctx, "deps-overlay", f)), { recursive: true });
                writeFileSync(join(ctx, "deps-overlay", f), content);
              }
              writeFileSync(join(ctx, "Dockerfile"), inst.dockerfile);
              const b = await sandbox.build({
                tag: inst.image,
                dockerfile: inst.dockerfile,
                contextDir: ctx,
                network: true,
              });
              if (!b.ok) {
                store.putRejection({
                  id: inst.instance_id,
                  repo: inst.repo,
                  number: task.number,
                  stage: "validate",
                  reason: "image_rebuild_failed",
                  detail: b.log.slice(-4000),
                  at: new Date().toISOString(),
                });
                results.push({ id: inst.instance_id, ok: false, reason: "image_rebuild_failed" });
                continue;
              }
            } finally {
              rmSync(ctx, { recursive: true, force: true });
            }
          }
          const build: BuildSuccess = {
            ok: true,
            environment: env,
            // The instance's own image (the environment image may hold another commit's checkout).
            image: inst.image,
            reuse: opts.rebuild ? "off" : undefined,
            plan: { name: inst.builder.name } as BuildSuccess["plan"],
            dockerfile: inst.dockerfile,
            evaluationScript: inst.evaluation_script,
            runs: [],
            attempts: [],
            buildMs: inst.cost.build_ms,
          };
          const v = await validate(task, build, {
            sandbox,
            parserFor,
            runsPerState: Number(opts.runs),
            skipProbes: opts.skipProbes,
            leakProbe: !opts.skipProbes,
            loadProbeCpus: opts.skipProbes ? 0 : cpus(opts.loadProbeCpus, "--load-probe-cpus"),
          });
          if (v.ok) {
            const rebuilt = !!opts.rebuild || inst.validation.image_rebuilt;
            store.putInstance({
              ...v.instance,
              validation: { ...v.instance.validation, image_rebuilt: rebuilt },
              builder: inst.builder,
              cost: inst.cost,
            });
            results.push({ id: inst.instance_id, ok: true });
          } else if (v.reason === "sandbox_error" || v.reason === "internal_error") {
            // The engine or this program failed, not the instance: the recorded instance stays.
            results.push({
              id: inst.instance_id,
              ok: false,
              reason: `${v.reason}, instance kept: ${v.detail.split("\n")[0]}`,
            });
          } else {
            store.putRejection({
              id: inst.instance_id,
              repo: inst.repo,
              number: task.number,
              stage: "validate",
              reason: v.reason,
              detail: v.detail,
              at: new Date().toISOString(),
            });
            results.push({ id: inst.instance_id, ok: false, reason: v.reason });
          }
          if (!opts.json) {
            const r = results[results.length - 1]!;
            process.stderr.write(`${r.id}: ${r.ok ? "valid" : `invalid (${r.reason})`}\n`);
          }
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
