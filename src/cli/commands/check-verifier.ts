import { resolve } from "node:path";
import type { Command } from "commander";
import { AUDIT_LIMITS, type AuditReport, auditVerifier, readAuditInput } from "../../checks/audit.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { ensureImage, pullable } from "../../sandbox/image.ts";
import { createSandbox } from "../../sandbox/index.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { parsed } from "../options.ts";
import { assertEngineAnswers } from "../preflight.ts";

interface Opts {
  script?: string;
  image?: string;
  sandbox: string;
  model?: string;
  baseUrl?: string;
  timeout: string;
  pids: string;
  memory: string;
  json?: boolean;
}

/** The report for a person: the verdict and why, every check, the evidence that did not decide. */
function print(report: AuditReport): void {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w(
    `${report.instance_id}: ${report.verdict}${report.convention ? ` (judged by its ${report.convention === "swebench-log" ? "SWE-bench log" : "exit code"})` : ""}`,
  );
  for (const b of report.because) w(`  because ${b}`);
  for (const c of report.checks)
    if (c.kind !== "static" || !c.passed || c.reasons.length)
      w(
        `  ${c.passed ? "ok  " : c.kind === "static" && !report.evidence.every((x) => x.check !== c.check) ? "seen" : "FAIL"} ${c.check}${c.reasons.length ? `: ${c.reasons.join("; ")}` : ""}`,
      );
  const quiet = report.checks.filter((c) => c.kind === "static" && c.passed && !c.reasons.length).length;
  if (quiet) w(`  ok   ${quiet} static rules saw nothing`);
  for (const x of report.evidence)
    w(
      `  evidence ${x.check}: ${x.confirmed_by.length ? `borne out by ${x.confirmed_by.join(", ")}` : "not borne out by behaviour"}`,
    );
  for (const s of report.skipped) w(`  skip ${s}`);
}

export function registerCheckVerifier(program: Command): void {
  program
    .command("check-verifier")
    .description(
      "Audit a verifier from any source: static rules always; with --image its baseline (buggy fails, resolved passes) and the behaviour probes; the LLM judge with a model. Verdict: honest, hacked, broken or suspect",
    )
    .argument("<dir>", "task or instance folder (task.json, evaluation.sh)")
    .option("--script <file>", "the verifier to audit (default: <dir>/evaluation.sh)")
    .option("--image <ref>", "environment image: runs the baseline and the behaviour probes in it")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--model <name>", "model for the judge (default SWEU_MODEL)")
    .option("--base-url <url>", "OpenAI-compatible endpoint (default SWEU_MODEL_BASE_URL)")
    .option("--timeout <sec>", "timeout of one probe run", "600")
    .option("--pids <n>", "process limit of every probe container", String(AUDIT_LIMITS.pids))
    .option("--memory <size>", "memory limit of every probe container", AUDIT_LIMITS.memory)
    .option("--json", "print the report as JSON")
    .action(async (dir: string, o: Opts) => {
      // Checked by checkOptions before this action runs (src/cli/options.ts).
      const timeout = parsed<number>("timeout", o.timeout);
      const pids = parsed<number>("pids", o.pids);
      const memory = String(parsed<number>("memory", o.memory));
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
          timeoutMs: timeout * 1000,
          limits: { pids, memory },
        });
        if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else print(report);
        if (report.verdict !== "honest") process.exitCode = Exit.failed;
      } finally {
        await sandbox?.cleanup();
      }
    });
}
