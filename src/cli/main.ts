#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { isDiskFull } from "../run/disk.ts";
import { registerBuild } from "./commands/build.ts";
import { registerCheckVerifier } from "./commands/check-verifier.ts";
import { registerEvaluate } from "./commands/evaluate.ts";
import { registerExport } from "./commands/export.ts";
import { registerMerge } from "./commands/merge.ts";
import { registerMine } from "./commands/mine.ts";
import { registerPush } from "./commands/push.ts";
import { registerReport } from "./commands/report.ts";
import { registerRun } from "./commands/run.ts";
import { registerTrajectories } from "./commands/trajectories.ts";
import { registerUniverse } from "./commands/universe.ts";
import { registerValidate } from "./commands/validate.ts";
import { registerWorker } from "./commands/worker.ts";
import { CliError, Exit } from "./exit-codes.ts";

export function makeProgram(): Command {
  const program = new Command("swe-universe")
    .description("Turn merged pull requests into verified software-engineering environments")
    .version("0.1.0")
    .showHelpAfterError()
    .exitOverride();
  registerMine(program);
  registerBuild(program);
  registerValidate(program);
  registerExport(program);
  registerEvaluate(program);
  registerRun(program);
  registerReport(program);
  registerPush(program);
  registerCheckVerifier(program);
  registerTrajectories(program);
  registerWorker(program);
  registerUniverse(program);
  registerMerge(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = makeProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : Exit.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      )
        return Exit.ok;
      return Exit.usage;
    }
    if (e instanceof CliError) {
      process.stderr.write(`swe-universe: ${e.message}\n`);
      return e.exitCode;
    }
    const text = e instanceof Error ? `${e.message} ${(e as { code?: string }).code ?? ""}` : String(e);
    if (isDiskFull(text)) {
      // Mining and export write outside any task; what was committed before stays. Free space and rerun.
      process.stderr.write(
        `swe-universe: the disk is full (${text.trim().split("\n")[0]}). Everything recorded so far is kept: free some space and run the same command again to go on.\n`,
      );
      return Exit.unavailable;
    }
    process.stderr.write(
      `swe-universe: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    return Exit.failed;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
