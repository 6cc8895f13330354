/**
 * Export a run: one folder per instance, dataset.jsonl, dataset.parquet and the funnel report.
 * Every file is written to a temp name and renamed, so rerunning export over an old export is safe and a
 * reader never sees a half-written file.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/store.ts";
import { readConfig } from "../store/universe.ts";
import { safeFileName } from "../util/safe-name.ts";
import { writeFileAtomic } from "./atomic.ts";
import { instanceToRow } from "./dataset.ts";
import { computeFunnel, type FunnelReport, renderFunnelMarkdown } from "./funnel.ts";
import { writeHfDataset } from "./hf.ts";
import { retireInstanceFolder, writeInstanceFolder } from "./instance-folder.ts";
import { writeDatasetParquet } from "./parquet.ts";
import { renderReportHtml } from "./report-html.ts";
import { computeUniverseReport, renderUniverseMarkdown, type UniverseReport } from "./universe-report.ts";

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

export interface UniverseExport extends Omit<ExportResult, "files" | "funnel"> {
  files: {
    jsonl: string;
    card: string;
    shards: string[];
    funnelJson: string;
    funnelMd: string;
    html: string;
  };
  funnel: UniverseReport;
}

/**
 * Export a run over many repositories (a universe run, or run folders merged): instance folders, the
 * dataset in the Hugging Face layout (data/ shards, README.md card, dataset.jsonl beside) and the funnel
 * across repositories (funnel.json, funnel.md, report.html).
 */
export function exportUniverse(store: Store, outDir: string, title = "swe-universe run"): UniverseExport {
  const { instances, retired } = writeFolders(store, outDir);
  const report = computeUniverseReport(store, instances);
  const repos = report.repositories.filter((r) => r.instances > 0).length;
  const hf = writeHfDataset(outDir, instances.map(instanceToRow), {
    title,
    summary: [
      `${instances.length} instances from ${repos} repositories, ` +
        `${
          report.by_language
            .filter((l) => l.instances > 0)
            .map((l) => `${l.language} ${l.instances}`)
            .join(", ") || "no languages"
        }.`,
    ],
  });
  const funnelJson = join(outDir, "funnel.json");
  const funnelMd = join(outDir, "funnel.md");
  const html = join(outDir, "report.html");
  writeFileAtomic(funnelJson, `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomic(funnelMd, renderUniverseMarkdown(report));
  writeFileAtomic(html, renderReportHtml(report, title));
  return {
    outDir,
    instances: instances.length,
    retired,
    files: { jsonl: hf.jsonl, card: hf.card, shards: hf.shards, funnelJson, funnelMd, html },
    funnel: report,
  };
}

/** One folder per instance; folders of ids that are no longer instances are retired. */
function writeFolders(store: Store, outDir: string) {
  const instances = store.listInstances();
  const instancesDir = join(outDir, "instances");
  const ids = new Set<string>();
  for (const inst of instances) {
    writeInstanceFolder(instancesDir, inst);
    ids.add(safeFileName(inst.instance_id));
  }
  const retired: string[] = [];
  if (existsSync(instancesDir)) {
    for (const name of readdirSync(instancesDir)) {
      if (name.startsWith(".") || ids.has(name)) continue;
      if (retireInstanceFolder(join(instancesDir, name))) retired.push(name);
    }
  }
  return { instances, retired };
}

/**
 * Export a run folder. A universe run's folder (or one holding several repositories) keeps the universe
 * layout whoever exports it: a top-up `build --only`, `synth` or `export` there rewrites the data/ shards
 * and the funnel across repositories, not a single run's dataset.parquet beside stale shards.
 */
export function exportRun(store: Store, outDir: string): ExportResult {
  if (readConfig(store) || store.repoCounts().length > 1) {
    const u = exportUniverse(store, outDir);
    // A single run's dataset.parquet from before the folder held many repositories would contradict data/.
    rmSync(join(outDir, "dataset.parquet"), { force: true });
    const { card: _, shards, html: __, ...files } = u.files;
    // One shard is the dataset's file; several are the data/ folder Hugging Face loads.
    return { ...u, files: { ...files, parquet: shards.length === 1 ? shards[0]! : join(outDir, "data") } };
  }
  const { instances, retired } = writeFolders(store, outDir);

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
