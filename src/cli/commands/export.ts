import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'export' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerExport(program: Command): void {
  program
    .command("export")
    .description("(export: not implemented yet)")
    .action(() => {
      throw new CliError("'export' is not implemented yet", Exit.usage);
    });
}
