import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'evaluate' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerEvaluate(program: Command): void {
  program
    .command("evaluate")
    .description("(evaluate: not implemented yet)")
    .action(() => {
      throw new CliError("'evaluate' is not implemented yet", Exit.usage);
    });
}
