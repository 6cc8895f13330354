/**
 * Run other people's tools (test/consumers/agents.py: mini-swe-agent, Hugging Face datasets, a SkyRL-style
 * evaluator) against an exported run, then grade the agents' predictions with our own harness.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import { loadDataset, loadPredictions } from "../../src/evaluate/inputs.ts";
import type { EvalResult } from "../../src/evaluate/report.ts";
import type { OciSandbox } from "../../src/sandbox/oci.ts";

const ROOT = resolve(import.meta.dirname, "../..");

export function consumerPython(): string {
  const py = process.env.SWEU_CONSUMER_PYTHON ?? join(ROOT, ".tools", "consumers", "bin", "python");
  if (!existsSync(py))
    throw new Error(`${py} is missing: run scripts/test.sh (its set-up installs the test consumers)`);
  return py;
}

export interface ConsumerStep {
  command: string;
  returncode: number;
  output: string;
}

export interface ConsumerInstanceReport {
  image_name: string;
  gold_agent: { exit_status: string; submission: string; steps: ConsumerStep[] };
  noop_agent: { exit_status: string; submission: string; steps: ConsumerStep[] };
  skyrl: Record<
    "gold" | "agent" | "empty",
    { reward?: number; exit_code?: number; output?: string; error?: string }
  >;
  bad_patch: { exit_code: number; message: string[] };
  non_root: { exit_code: number; report: string[] };
  entry: Record<string, string>;
}

export interface ConsumerReport {
  datasets: {
    jsonl_rows: number;
    parquet_rows: number;
    same_columns: boolean;
    same_rows: boolean;
    columns: string[];
  };
  instances: Record<string, ConsumerInstanceReport>;
}

/** The engine flags a consumer needs on this machine: the OCI runtime and ulimits podman accepts here. */
function runArgs(sandbox: OciSandbox, extra: string[]): string[] {
  const global = sandbox.args();
  const rt = global.indexOf("--runtime");
  return [
    ...(rt >= 0 ? ["--runtime", global[rt + 1]!] : []),
    ...sandbox.ulimits.flatMap((u) => ["--ulimit", u]),
    "--network",
    "none",
    ...extra,
  ];
}

/**
 * Run the consumers on `exportDir` (dataset.jsonl + dataset.parquet) and grade both agents' predictions with
 * `evaluate`. `commands`: per instance, how the project runs its tests; `tools`: a program that must be on
 * PATH in every way into the container.
 */
export async function runConsumers(
  sandbox: OciSandbox,
  exportDir: string,
  o: { commands: Record<string, string>; tools: Record<string, string>; runArgs?: string[]; only?: string[] },
) {
  const out = mkdtempSync(join(tmpdir(), "sweu-consumers-"));
  const spec = {
    dataset_dir: exportDir,
    out_dir: out,
    engine: sandbox.executable,
    run_args: runArgs(sandbox, o.runArgs ?? []),
    commands: o.commands,
    tools: o.tools,
    ...(o.only ? { only: o.only } : {}),
  };
  writeFileSync(join(out, "spec.json"), JSON.stringify(spec));
  const r = spawnSync(
    consumerPython(),
    [join(ROOT, "test", "consumers", "agents.py"), join(out, "spec.json")],
    {
      encoding: "utf8",
      timeout: 1_200_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, MSWEA_SILENT_STARTUP: "1", HF_DATASETS_OFFLINE: "1", HF_HUB_OFFLINE: "1" },
    },
  );
  if (r.status !== 0) throw new Error(`agents.py exited ${r.status}:\n${r.stderr.slice(-6000)}`);
  const report = JSON.parse(r.stdout.trim().split("\n").pop()!) as ConsumerReport;
  const dataset = loadDataset(join(exportDir, "dataset.jsonl"));
  const graded: EvalResult[] = [];
  for (const model of ["msa-gold-by-shell", "msa-noop"]) {
    const preds = loadPredictions(join(out, `preds-${model}.jsonl`), dataset);
    const run = await evaluatePredictions(dataset, preds, join(out, "eval"), `consumers-${model}`, {
      sandbox,
      workers: 1,
      timeoutMs: 600_000,
    });
    graded.push(...run.results);
  }
  const resolved = (model: string, id: string) =>
    graded.find((x) => x.model === model && x.instance_id === id)?.report.resolved;
  return { report, graded, resolved };
}

/**
 * The assertions every language's e2e test makes of the consumers on its one instance: both loaders read
 * the same rows with image_name and eval_script; the agent ran the project's tests the project's way and
 * its gold-by-shell patch resolves (our evaluate and a SkyRL-style eval_script run), a no-op does not;
 * eval_script refuses a patch that does not apply; `git status` is clean; the tool is on PATH every way in.
 */
export async function expectConsumersResolve(
  sandbox: OciSandbox,
  exportDir: string,
  id: string,
  o: { command: string; tool: string; ran: RegExp },
): Promise<ConsumerInstanceReport> {
  const { expect } = await import("vitest");
  const extra = sandbox.engine === "podman" ? ["--tls-verify=false"] : [];
  const { report, resolved } = await runConsumers(sandbox, exportDir, {
    commands: { [id]: o.command },
    tools: { [id]: o.tool },
    runArgs: extra,
  });
  const d = report.datasets;
  expect([d.jsonl_rows, d.parquet_rows, d.same_columns, d.same_rows]).toEqual([1, 1, true, true]);
  expect(d.columns).toEqual(expect.arrayContaining(["image_name", "eval_script", "problem_statement"]));
  const r = report.instances[id]!;
  const [tests] = r.gold_agent.steps;
  expect(tests!.returncode, tests!.output).not.toBe(127);
  expect(tests!.output).toMatch(o.ran);
  expect(r.gold_agent.exit_status).toBe("Submitted");
  expect(r.gold_agent.submission).toContain("diff --git");
  expect(r.noop_agent.submission.trim()).toBe("");
  expect(resolved("msa-gold-by-shell", id)).toBe(true);
  expect(resolved("msa-noop", id)).toBe(false);
  expect([r.skyrl.gold.reward, r.skyrl.agent.reward, r.skyrl.empty.reward], JSON.stringify(r.skyrl)).toEqual([
    1, 1, 0,
  ]);
  expect(r.bad_patch.exit_code).toBe(97);
  expect(r.bad_patch.message.join(" ")).toMatch(/does not apply/);
  expect(r.entry["git status"]).toBe("");
  const ways = ["bash -lc", "bash -c", "sh -c", "exec", "bash -i"];
  for (const w of ways) expect(r.entry[w], `${o.tool} via ${w}: ${JSON.stringify(r.entry)}`).not.toBe("");
  expect(new Set(ways.map((w) => r.entry[w])).size, JSON.stringify(r.entry)).toBe(1);
  return r;
}
