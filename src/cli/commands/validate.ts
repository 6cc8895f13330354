import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'validate' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerValidate(program: Command): void {
  program
    .command("validate")
    .description("(validate: not implemented yet)")
    .action(() => {
      throw new CliError("'validate' is not implemented yet", Exit.usage);
    });
}
