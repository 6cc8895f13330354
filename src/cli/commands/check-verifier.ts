import { resolve } from "node:path";
import type { Command } from "commander";
import { auditVerifier, readAuditInput } from "../../checks/audit.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { ensureImage, pullable } from "../../sandbox/image.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertEngineAnswers } from "../preflight.ts";

interface Opts {
  script?: string;
  image?: string;
  sandbox: string;
  model?: string;
  baseUrl?: string;
  timeout: string;
  json?: boolean;
}

export function registerCheckVerifier(program: Command): void {
  program
    .command("check-verifier")
    .description(
      "Run every hacking check on a verifier: static rules always, the dynamic probes with --image, the LLM judge with a model",
    )
    .argument("<dir>", "task or instance folder (task.json, evaluation.sh)")
    .option("--script <file>", "the verifier to audit (default: <dir>/evaluation.sh)")
    .option("--image <ref>", "environment image: runs the comment and no-tests probes in it")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--model <name>", "model for the judge (default SWEU_MODEL)")
    .option("--base-url <url>", "OpenAI-compatible endpoint (default SWEU_MODEL_BASE_URL)")
    .option("--timeout <sec>", "timeout of one probe run", "600")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, o: Opts) => {
      let input: ReturnType<typeof readAuditInput>;
      try {
        input = readAuditInput(resolve(dir), o.script && resolve(o.script));
      } catch (e) {
        throw new CliError(e instanceof Error ? e.message : String(e), Exit.input);
      }
      const sandbox = o.image ? createSandbox(o.sandbox) : undefined;
      if (sandbox) await assertEngineAnswers(sandbox);
      try {
        // A missing image would fail the first probe as a crash, exiting like a "hacked" verdict.
        // Pulled when it is not here; a registry out of reach is exit 4, a local tag that is gone exit 3.
        const img = sandbox && o.image ? await ensureImage(sandbox, { image: o.image }) : undefined;
        if (img && !img.ok)
          throw new CliError(
            `${img.error}; or leave out --image`,
            pullable(o.image!) ? Exit.unavailable : Exit.input,
          );
        const report = await auditVerifier(input, {
          sandbox,
          image: img?.ok ? img.image : undefined,
          model: modelFromConfig({ model: o.model, baseURL: o.baseUrl }),
          timeoutMs: Number(o.timeout) * 1000,
        });
        if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else {
          process.stdout.write(`${report.instance_id}: ${report.verdict}\n`);
          for (const c of report.checks)
            process.stdout.write(
              `  ${c.passed ? "ok  " : "FAIL"} ${c.check}${c.reasons.length ? `: ${c.reasons.join("; ")}` : ""}\n`,
            );
          for (const s of report.skipped) process.stdout.write(`  skip ${s}\n`);
        }
        if (report.verdict === "hacked") process.exitCode = Exit.failed;
      } finally {
        await sandbox?.cleanup();
      }
    });
}
