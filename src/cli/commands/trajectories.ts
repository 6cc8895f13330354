import { resolve } from "node:path";
import type { Command } from "commander";
import { exportTrajectories } from "../../builder/agent/trajectory.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { openRunReadOnly } from "../run-folder.ts";

export function registerTrajectories(program: Command): void {
  program
    .command("trajectories")
    .description(
      "Export the building agent's successful, non-hacked trajectories as OpenAI chat-format JSONL (fine-tuning data)",
    )
    .requiredOption("--run-dir <dir>", "run folder")
    .requiredOption("--out <file>", "JSONL file to write")
    .option("--json", "print the summary as JSON")
    .action((o: { runDir: string; out: string; json?: boolean }) => {
      const runDir = resolve(o.runDir);
      const store = openRunReadOnly(runDir);
      if (!store) throw new CliError(`no run at ${runDir}`, Exit.input);
      try {
        const r = exportTrajectories(runDir, store.listInstances(), resolve(o.out));
        if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else {
          process.stdout.write(`wrote ${r.written} trajectories to ${resolve(o.out)}\n`);
          for (const s of r.skipped) process.stderr.write(`  skipped ${s.id}: ${s.why}\n`);
        }
      } finally {
        store.close();
      }
    });
}
