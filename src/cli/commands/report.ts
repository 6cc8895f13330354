import type { Command } from "commander";
import { computeFunnel, renderFunnelMarkdown } from "../../export/funnel.ts";
import { storePath } from "../../export/run-dir.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { openRunReadOnly, resolveRunDir } from "../run-folder.ts";

export function registerReport(program: Command): void {
  program
    .command("report")
    .description("Print the funnel: candidates -> tasks -> instances, rejections by stage and reason")
    .option(
      "--run-dir <dir>",
      "run folder holding the store (default: $SWEU_RUN_DIR, else the only run under ./runs)",
    )
    .option("--json", "print the funnel as JSON")
    .action((opts: { runDir?: string; json?: boolean }) => {
      const runDir = resolveRunDir(opts.runDir);
      // report only reads: a read-only store (a read-only folder, a run being written by another process).
      const store = openRunReadOnly(runDir);
      if (!store) throw new CliError(`no store at ${storePath(runDir)} (is --run-dir right?)`, Exit.input);
      try {
        const funnel = computeFunnel(store);
        process.stdout.write(
          opts.json ? `${JSON.stringify(funnel, null, 2)}\n` : renderFunnelMarkdown(funnel),
        );
      } finally {
        store.close();
      }
    });
}
