import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'run' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerRun(program: Command): void {
  program
    .command("run")
    .description("(run: not implemented yet)")
    .action(() => {
      throw new CliError("'run' is not implemented yet", Exit.usage);
    });
}
