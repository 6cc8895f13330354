import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { exportUniverse } from "../../export/index.ts";
import { type MergeResult, mergeFiles, mergeStore } from "../../export/merge.ts";
import { STORE_FILE } from "../../export/run-dir.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { openRunFolder, openRunReadOnly } from "../run-folder.ts";

export function registerMerge(program: Command): void {
  program
    .command("merge")
    .description("Combine run folders (of run, universe, other machines) into one dataset and one funnel")
    .argument("<run-dirs...>", "run folders, each with its store.sqlite")
    .requiredOption("--out <dir>", "the merged folder (its store, dataset, funnel and report)")
    .option("--json", "print the result as JSON")
    .action(async (dirs: string[], o: { out: string; json?: boolean }) => {
      const out = resolve(o.out);
      for (const d of dirs)
        if (!existsSync(join(d, STORE_FILE)))
          throw new CliError(`no run folder at ${d} (no ${STORE_FILE})`, Exit.input);
      // The merged folder is written (locked, like any run folder); the others are only read.
      const folder = await openRunFolder(out, { verb: "merge", create: true });
      const into = folder.store;
      const r: MergeResult = { folders: 0, candidates: 0, instances: 0, conflicts: [] };
      try {
        for (const d of dirs) {
          if (resolve(d) === out) continue;
          const src = openRunReadOnly(resolve(d))!;
          try {
            mergeStore(into, src, d, r);
          } finally {
            src.close();
          }
          mergeFiles(resolve(d), out);
          r.folders++;
        }
        const ex = exportUniverse(into, out, "swe-universe merged runs");
        r.instances = ex.instances;
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ ...r, files: ex.files }, null, 2)}\n`);
          return;
        }
        for (const c of r.conflicts)
          process.stderr.write(`conflict: ${c.id}: kept ${c.kept}, dropped ${c.dropped}\n`);
        process.stdout.write(
          `merged ${r.folders} run folders into ${out}: ${ex.funnel.repositories.length} repositories, ` +
            `${ex.funnel.candidates} candidates, ${ex.instances} instances, ${r.conflicts.length} conflicts\n` +
            `dataset: ${join(out, "data")} (${ex.files.shards.length} shards), ${ex.files.jsonl}\nreport:  ${ex.files.html}\n`,
        );
      } finally {
        folder.close();
      }
    });
}
