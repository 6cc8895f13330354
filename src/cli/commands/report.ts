import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'report' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerReport(program: Command): void {
  program
    .command("report")
    .description("(report: not implemented yet)")
    .action(() => {
      throw new CliError("'report' is not implemented yet", Exit.usage);
    });
}
