import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { exportHarbor, exportRebuildContexts } from "../../export/consumers.ts";
import { exportRun } from "../../export/index.ts";
import { storePath } from "../../export/run-dir.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { openRunFolder, resolveRunDir } from "../run-folder.ts";

interface ExportOpts {
  runDir?: string;
  out?: string;
  json?: boolean;
  withContext?: boolean;
  harbor?: string;
  wait?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command("export")
    .description("Write instance folders, dataset.jsonl, dataset.parquet and the funnel report")
    .option(
      "--run-dir <dir>",
      "run folder holding the store (default: $SWEU_RUN_DIR, else the only run under ./runs)",
    )
    .option("--out <dir>", "output folder (default: the run folder)")
    .option(
      "--with-context",
      "also write instances/<id>/rebuild/: a build context that rebuilds the image on any machine",
    )
    .option("--harbor <dir>", "also write one Harbor task folder per instance into this folder")
    .option("--json", "print the result as JSON")
    .option("--no-wait", "fail at once (exit 4) when another process holds the run folder")
    .action(async (opts: ExportOpts) => {
      const runDir = resolveRunDir(opts.runDir);
      if (!existsSync(storePath(runDir)))
        throw new CliError(`no store at ${storePath(runDir)} (is --run-dir right?)`, Exit.input);
      const folder = await openRunFolder(runDir, { verb: "export", wait: opts.wait });
      const store = folder.store;
      try {
        const out = resolve(opts.out ?? runDir);
        const res = exportRun(store, out);
        const contexts = opts.withContext ? await exportRebuildContexts(store, out) : undefined;
        const harbor = opts.harbor ? await exportHarbor(store, resolve(opts.harbor)) : undefined;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...res, contexts, harbor }, null, 2)}\n`);
          return;
        }
        for (const [what, s] of [
          ["rebuild contexts", contexts],
          ["Harbor tasks", harbor],
        ] as const) {
          if (!s) continue;
          process.stdout.write(`${what}: ${s.written} written`);
          if (s.skipped.length) process.stdout.write(`, ${s.skipped.length} without a clone at hand`);
          if (s.needs.length) process.stdout.write(`, ${s.needs.length} need more (see their NEEDS.md)`);
          process.stdout.write("\n");
        }
        const f = res.funnel;
        process.stdout.write(
          `exported ${res.instances} instances to ${res.outDir}\n` +
            `  ${res.files.jsonl}\n  ${res.files.parquet}\n  ${res.files.funnelMd}\n` +
            `funnel: ${f.candidates} candidates -> ${f.tasks} tasks -> ${f.instances} instances` +
            (f.yield === null ? "\n" : ` (yield ${(f.yield * 100).toFixed(1)}%)\n`) +
            (res.retired.length ? `retired ${res.retired.length} stale instance folders\n` : ""),
        );
      } finally {
        folder.close();
      }
    });
}
