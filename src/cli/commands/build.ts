import type { Command } from "commander";
import { CliError, Exit } from "../exit-codes.ts";

// Placeholder until the 'build' stage lands: the verb is listed but says plainly that it is not there yet.
export function registerBuild(program: Command): void {
  program
    .command("build")
    .description("(build: not implemented yet)")
    .action(() => {
      throw new CliError("'build' is not implemented yet", Exit.usage);
    });
}
