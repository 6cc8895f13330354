import { resolve } from "node:path";
import type { Command } from "commander";
import { pushPending } from "../../run/push.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";
import { assertRunExists, openRunFolder } from "../run-folder.ts";

interface PushOpts {
  runDir: string;
  registry: string;
  all?: boolean;
  attempts: string;
  sandbox: string;
  json?: boolean;
  wait?: boolean;
}

export function registerPush(program: Command): void {
  program
    .command("push")
    .description(
      "Push the images of a run's instances to a registry: those not pushed there yet (a refused push earlier, or none tried)",
    )
    .requiredOption("--run-dir <dir>", "run folder")
    .requiredOption("--registry <host/prefix>", "registry and prefix, e.g. reg.example:5000/sweu")
    .option("--all", "push every instance again, pushed or not")
    .option("--attempts <n>", "tries per image before giving up", "3")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--no-wait", "fail at once (exit 4) when another process holds the run folder")
    .option("--json", "print the summary as JSON")
    .action(async (o: PushOpts) => {
      const runDir = resolve(o.runDir);
      const attempts = Number(o.attempts);
      const sandbox = createSandbox(o.sandbox);
      assertRunExists(runDir);
      await assertEngineAnswers(sandbox);
      const folder = await openRunFolder(runDir, { verb: "push", wait: o.wait });
      const store = folder.store;
      try {
        const s = await pushPending(store, sandbox, o.registry, {
          all: o.all,
          attempts,
          onRetry: (n, err) => process.stderr.write(`  push attempt ${n} failed: ${err.split("\n")[0]}\n`),
          onPushed: (id, r) =>
            o.json || process.stderr.write(`${id}: ${r.ok ? `pushed ${r.ref}` : `REFUSED: ${r.error}`}\n`),
        });
        if (o.json) process.stdout.write(`${JSON.stringify(s)}\n`);
        else
          process.stdout.write(
            `pushed ${s.pushed.length}, refused ${s.refused.length}, already there ${s.already}\n`,
          );
        if (s.refused.length) process.exitCode = Exit.unavailable;
      } finally {
        folder.close();
        await sandbox.cleanup();
      }
    });
}
