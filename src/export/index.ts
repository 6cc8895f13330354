/**
 * Export a run: one folder per instance, dataset.jsonl, dataset.parquet and the funnel report.
 * Every file is written to a temp name and renamed, so rerunning export over an old export is safe and a
 * reader never sees a half-written file.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/store.ts";
import { writeFileAtomic } from "./atomic.ts";
import { instanceToRow } from "./dataset.ts";
import { computeFunnel, type FunnelReport, renderFunnelMarkdown } from "./funnel.ts";
import { retireInstanceFolder, writeInstanceFolder } from "./instance-folder.ts";
import { writeDatasetParquet } from "./parquet.ts";

export { DATASET_COLUMNS, type DatasetRow, instanceToRow, rowToInstance } from "./dataset.ts";
export { computeFunnel, type FunnelReport, renderFunnelMarkdown } from "./funnel.ts";

export interface ExportResult {
  outDir: string;
  instances: number;
  /** Folders of ids that are no longer instances, whose exported files were removed. */
  retired: string[];
  files: { jsonl: string; parquet: string; funnelJson: string; funnelMd: string };
  funnel: FunnelReport;
}

export function writeFunnel(outDir: string, funnel: FunnelReport): { json: string; md: string } {
  const json = join(outDir, "funnel.json");
  const md = join(outDir, "funnel.md");
  writeFileAtomic(json, `${JSON.stringify(funnel, null, 2)}\n`);
  writeFileAtomic(md, renderFunnelMarkdown(funnel));
  return { json, md };
}

export function exportRun(store: Store, outDir: string): ExportResult {
  const instances = store.listInstances();
  const instancesDir = join(outDir, "instances");
  const ids = new Set<string>();
  for (const inst of instances) {
    writeInstanceFolder(instancesDir, inst);
    ids.add(inst.instance_id);
  }
  const retired: string[] = [];
  if (existsSync(instancesDir)) {
    for (const name of readdirSync(instancesDir)) {
      if (name.startsWith(".") || ids.has(name)) continue;
      if (retireInstanceFolder(join(instancesDir, name))) retired.push(name);
    }
  }

  const rows = instances.map(instanceToRow);
  const jsonl = join(outDir, "dataset.jsonl");
  writeFileAtomic(jsonl, rows.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const parquet = join(outDir, "dataset.parquet");
  writeDatasetParquet(parquet, rows);

  const funnel = computeFunnel(store, instances);
  const f = writeFunnel(outDir, funnel);
  return {
    outDir,
    instances: instances.length,
    retired,
    files: { jsonl, parquet, funnelJson: f.json, funnelMd: f.md },
    funnel,
  };
}
