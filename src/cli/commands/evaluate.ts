import { resolve } from "node:path";
import type { Command } from "commander";
import { type EvaluationRun, evaluatePredictions } from "../../evaluate/evaluate.ts";
import { InputError, loadDataset, loadPredictions, type Prediction } from "../../evaluate/inputs.ts";
import type { Instance } from "../../records/index.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";

interface EvaluateOpts {
  dataset: string;
  predictions: string;
  runId?: string;
  out: string;
  workers: string;
  timeout: string;
  instanceIds?: string;
  sandbox: string;
  strict?: boolean;
  json?: boolean;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag} must be a positive integer, got "${value}"`, Exit.usage);
  return n;
}

function defaultRunId(): string {
  return `eval-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-")}`;
}

export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("Evaluate SWE-bench-format predictions against a dataset in fresh, offline containers")
    .requiredOption("--dataset <path>", "dataset.jsonl, or an export folder holding one")
    .requiredOption(
      "--predictions <path>",
      'predictions (.jsonl or JSON list), or "gold" / "empty" to check the dataset',
    )
    .option("--run-id <id>", "name of this evaluation run (default: eval-<timestamp>)")
    .option("--out <dir>", "where reports go", "sweu-eval")
    .option("--workers <n>", "predictions evaluated at once", "1")
    .option("--timeout <sec>", "time limit for evaluation.sh per prediction, seconds", "1800")
    .option("--instance-ids <ids>", "comma-separated subset of instance ids")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--strict", "exit 1 when any instance is unresolved")
    .option("--json", "print the run report(s) as JSON")
    .action(async (opts: EvaluateOpts) => {
      const workers = positiveInt(opts.workers, "--workers");
      const timeoutSec = positiveInt(opts.timeout, "--timeout");
      const runId = opts.runId ?? defaultRunId();
      if (!/^[\w.-]+$/.test(runId))
        throw new CliError(`--run-id may hold letters, digits, . _ - only`, Exit.usage);

      const { dataset, predictions } = readInputs(opts);

      let sandbox: ReturnType<typeof createSandbox>;
      try {
        sandbox = createSandbox(opts.sandbox);
        await sandbox.imageExists("localhost/sweu-preflight:none");
      } catch (e) {
        throw new CliError(`container engine unavailable: ${(e as Error).message}`, Exit.unavailable);
      }
      await assertEngineAnswers(sandbox);

      const outDir = resolve(opts.out);
      try {
        const run = await evaluatePredictions(dataset, predictions, outDir, runId, {
          sandbox,
          workers,
          timeoutMs: timeoutSec * 1000,
          keyByRunId: true,
          onResult: opts.json
            ? undefined
            : (r) => process.stderr.write(`${r.report.sweu.status.padEnd(12)} ${r.model} ${r.instance_id}\n`),
        });
        process.exitCode = report(run, opts);
      } finally {
        await sandbox.cleanup();
      }
    });
}

/** The dataset and the predictions, the subset asked for; an input that does not make sense is exit 3. */
function readInputs(opts: EvaluateOpts): { dataset: Instance[]; predictions: Prediction[] } {
  let dataset: Instance[];
  let predictions: Prediction[];
  try {
    dataset = loadDataset(opts.dataset);
    if (opts.instanceIds) {
      const want = new Set(
        opts.instanceIds
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      );
      const missing = [...want].filter((id) => !dataset.some((i) => i.instance_id === id));
      if (missing.length) throw new InputError(`not in the dataset: ${missing.join(", ")}`);
      dataset = dataset.filter((i) => want.has(i.instance_id));
    }
    predictions = loadPredictions(opts.predictions, dataset);
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, Exit.input);
    throw e;
  }
  const ids = new Set(dataset.map((i) => i.instance_id));
  if (opts.instanceIds) predictions = predictions.filter((p) => ids.has(p.instance_id));
  if (!predictions.some((p) => ids.has(p.instance_id)))
    throw new CliError("no prediction names an instance of the dataset", Exit.input);
  return { dataset, predictions };
}

/** Print the run reports; the exit code: 4 when an image could not be had, 1 for errors (or unresolved with --strict). */
function report(run: EvaluationRun, opts: EvaluateOpts): number {
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(
        run.reports.map((r) => ({ ...r.report, path: r.path })),
        null,
        2,
      )}\n`,
    );
  } else {
    for (const { report: r, path } of run.reports) {
      process.stdout.write(
        `${r.model}: ${r.resolved_instances}/${r.submitted_instances} resolved, ` +
          `${r.unresolved_instances} unresolved (${r.patch_failed_ids.length} patch failed), ` +
          `${r.error_instances} errors, ${r.empty_patch_instances} empty patches -> ${path}\n`,
      );
    }
  }
  const all = run.reports.map((r) => r.report);
  const noImage = run.results.filter((r) => r.report.sweu.error_kind === "image_unavailable");
  if (noImage.length) {
    process.stderr.write(
      `swe-universe: ${noImage.length} prediction(s) not evaluated: ${noImage[0]!.report.sweu.error}\n`,
    );
    return Exit.unavailable;
  }
  if (all.some((r) => r.error_instances > 0)) return Exit.failed;
  if (opts.strict && all.some((r) => r.unresolved_instances > 0)) return Exit.failed;
  return Exit.ok;
}
