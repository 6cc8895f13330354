import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import type { Instance } from "../../src/records/index.ts";
import { type PipelineOptions, runPipeline } from "../../src/run/pipeline.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";

/** The sandbox of an end-to-end test file: the base image made before its tests, its containers removed after. */
export function e2eSandbox(): Sandbox {
  const sandbox = createSandbox("auto");
  beforeAll(async () => {
    await ensureBaseImage(sandbox);
  }, 900_000);
  afterAll(async () => {
    await sandbox.cleanup();
  });
  return sandbox;
}

/**
 * Run the whole pipeline (mine → build → validate → export) on a test repository, two runs per state
 * unless `o` says otherwise (a test that needs an instance, not its validation, asks for less).
 */
export async function runRepo(sandbox: Sandbox, repoDir: string, o: Partial<PipelineOptions> = {}) {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-run-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const source = await GitSource.open(repoDir);
  const summary = await runPipeline(source, store, sandbox, { runDir, runsPerState: 2, ...o });
  return { runDir, store, summary };
}

/** Evaluate the gold patch and an empty patch with the harness; returns both reports. */
export async function goldAndEmpty(sandbox: Sandbox, inst: Instance) {
  const out = mkdtempSync(join(tmpdir(), "sweu-eval-"));
  const run = await evaluatePredictions(
    [inst],
    [
      { instance_id: inst.instance_id, model_name_or_path: "gold", model_patch: inst.patch },
      { instance_id: inst.instance_id, model_name_or_path: "empty", model_patch: "" },
    ],
    out,
    "e2e",
    { sandbox, workers: 1, timeoutMs: 600_000 },
  );
  const report = (model: string) => {
    const r = run.results.find((x) => x.model === model);
    if (!r) throw new Error(`no result for ${model}`);
    return r.report;
  };
  return { gold: report("gold"), empty: report("empty") };
}
