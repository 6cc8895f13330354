import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'mine' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerMine(program: Command): void {
  program
    .command("mine")
    .description("(mine: not implemented yet)")
    .action(() => {
      throw new CliError("'mine' is not implemented yet", Exit.usage);
    });
}
