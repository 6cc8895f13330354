#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { registerBuild } from "./commands/build.ts";
import { registerCheckVerifier } from "./commands/check-verifier.ts";
import { registerEvaluate } from "./commands/evaluate.ts";
import { registerExport } from "./commands/export.ts";
import { registerMerge } from "./commands/merge.ts";
import { registerMine } from "./commands/mine.ts";
import { registerPush } from "./commands/push.ts";
import { registerReport } from "./commands/report.ts";
import { registerRun } from "./commands/run.ts";
import { registerServe } from "./commands/serve.ts";
import { registerSynth } from "./commands/synth.ts";
import { registerTrajectories } from "./commands/trajectories.ts";
import { registerUniverse } from "./commands/universe.ts";
import { registerValidate } from "./commands/validate.ts";
import { registerWorker } from "./commands/worker.ts";
import { report } from "./errors.ts";
import { Exit } from "./exit-codes.ts";
import { checkOptions } from "./options.ts";
import { installSignals, interruptedBy, stopNow } from "./signals.ts";

/** Commander's own errors (unknown option, missing argument) as one line, with where to read more. */
function oneLineError(text: string, write: (s: string) => void): void {
  const line =
    text
      .replace(/^error: /, "")
      .trim()
      .split("\n")[0] ?? "";
  write(`swe-universe: ${line} (see --help)\n`);
}

export function makeProgram(): Command {
  const program = new Command("swe-universe")
    .description("Turn merged pull requests into verified software-engineering environments")
    .version("0.1.0")
    .configureOutput({ outputError: oneLineError })
    .exitOverride();
  // Every option value of every verb is checked before the verb runs (src/cli/options.ts).
  program.hook("preAction", (_root, action) => checkOptions(action));
  registerMine(program);
  registerBuild(program);
  registerValidate(program);
  registerExport(program);
  registerEvaluate(program);
  registerRun(program);
  registerReport(program);
  registerPush(program);
  registerCheckVerifier(program);
  registerSynth(program);
  registerTrajectories(program);
  registerWorker(program);
  registerUniverse(program);
  registerMerge(program);
  registerServe(program);
  return program;
}

/** Run one command line; returns the exit code (errors mapped at one boundary, src/cli/errors.ts). */
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
    return report(e, interruptedBy());
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  installSignals();
  // An error no verb caught (an 'error' event nobody listens to, a promise nobody awaits): one line, the
  // right code, children and containers stopped — never a stack trace on the console.
  const fatal = (e: unknown) => void stopNow(report(e, interruptedBy()));
  process.on("uncaughtException", fatal);
  process.on("unhandledRejection", fatal);
  main(process.argv).then(
    (code) => {
      // Interrupted: children and containers may still be around, and they keep the process alive.
      if (interruptedBy()) void stopNow();
      else process.exitCode = code;
    },
    (e) => {
      process.exitCode = report(e, interruptedBy());
    },
  );
}
