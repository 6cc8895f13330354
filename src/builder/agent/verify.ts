import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CheckFailure, type CheckName, evidence, GATES, gate, runGate } from "../../checks/gate.ts";
import { logicalLines } from "../../checks/shell.ts";
import { renderEvaluationScript } from "../../harness/evaluation-script.ts";
import { hasParser, parserNames } from "../../harness/parsers/index.ts";
import { type OutputParser, presentTestFiles } from "../../harness/run-state.ts";
import type { Model, Usage } from "../../model/model.ts";
import type { CheckVerdict, Environment, ReasonCode, StateRun, Task } from "../../records/index.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { tail } from "../../util/text.ts";
import { environmentKey, renderDockerfile } from "../dockerfile.ts";
import type { BuildPlan } from "../recipes/types.ts";

/** The arguments of `submit`, checked. */
export interface Submission {
  apt: string[];
  install: string;
  env: Record<string, string>;
  testCommand?: string;
  evaluationScript: string;
  parser: string;
  testFiles?: string[];
}

/** Read submit's arguments; a string is the complaint to send back. */
export function readSubmission(a: Record<string, unknown>, generateTests: boolean): Submission | string {
  const apt = Array.isArray(a.apt_packages) ? a.apt_packages.map(String) : [];
  const badApt = apt.find((p) => !/^[a-z0-9][a-z0-9+.:=~-]*$/.test(p));
  if (badApt) return `apt_packages: "${badApt}" is not a Debian package name`;
  if (typeof a.install !== "string") return "install: a bash script is required (it may be empty)";
  if (typeof a.parser !== "string" || !hasParser(a.parser))
    return `parser: one of ${parserNames().join(", ")} is required`;
  const env: Record<string, string> = {};
  if (a.env && typeof a.env === "object")
    for (const [k, v] of Object.entries(a.env)) if (/^[A-Za-z_]\w*$/.test(k)) env[k] = String(v);
  const testCommand =
    typeof a.test_command === "string" && a.test_command.trim() ? a.test_command.trim() : undefined;
  const script =
    typeof a.evaluation_script === "string" && a.evaluation_script.trim() ? a.evaluation_script : undefined;
  if (!testCommand && !script)
    return "give test_command (wrapped into evaluation.sh for you) or evaluation_script";
  const testFiles = Array.isArray(a.test_files) ? a.test_files.map(String).filter(Boolean) : undefined;
  if (generateTests && !testFiles?.length) return "test_files: list the test files you wrote";
  return {
    apt,
    install: a.install,
    env,
    testCommand,
    evaluationScript: script ?? renderEvaluationScript({ env, test: testCommand!, junit: undefined }),
    parser: a.parser,
    testFiles,
  };
}

/**
 * The install script as Dockerfile RUN steps, so the image is rebuilt from text. A script of plain lines
 * becomes one readable `a && b` chain; anything with control flow or here-documents runs whole as
 * `bash -eo pipefail -c` in exec form. Either way a failing line fails the build.
 */
export function installSteps(script: string): string[] {
  const lines = logicalLines(script).map((l) => ({ ...l, text: l.text.replace(/;\s*$/, "") }));
  if (!lines.length) return [];
  const plain = lines.every(
    (l) =>
      l.depth === 0 &&
      !l.heredoc &&
      !/<<|^(?:if|for|while|until|case|function|then|do)\b|\(\)\s*\{|[&|]$|^(?:&&|\|\|)/.test(l.text),
  );
  if (plain) return [lines.map((l) => l.text).join(" \\\n    && ")];
  return [JSON.stringify(["/bin/bash", "-eo", "pipefail", "-c", script])];
}

export function submissionPlan(task: Task, sub: Submission, name: string): BuildPlan {
  return {
    name,
    language: task.language,
    apt: sub.apt,
    toolchain: [],
    env: sub.env,
    install: installSteps(sub.install),
    test: sub.testCommand ?? "bash evaluation.sh",
    parser: sub.parser,
    toolchainVersions: {},
  };
}

export interface VerifyContext {
  sandbox: Sandbox;
  baseImage: string;
  /** Build context holding testbed/ (and certs/). */
  contextDir: string;
  caDir?: string;
  tag: string;
  parserFor: (name: string) => OutputParser;
  buildTimeoutMs: number;
  testTimeoutMs: number;
  /** The judge, when a model is configured for it. */
  judge?: Model;
  files: readonly string[];
  probes: boolean;
  planName: string;
  signal?: AbortSignal;
}

export type Verified =
  | {
      ok: true;
      plan: BuildPlan;
      dockerfile: string;
      evaluationScript: string;
      environment: Environment;
      runs: StateRun[];
      checks: CheckVerdict[];
      judgeUsage: Usage & { usd: number };
    }
  | {
      ok: false;
      stage: string;
      reason: ReasonCode;
      feedback: string;
      fatal: boolean;
      judgeUsage: Usage & { usd: number };
    };

const failedChecks = (cs: CheckVerdict[]) =>
  cs
    .filter((c) => !c.passed)
    .map((c) => `- ${c.check}: ${c.reasons.filter((r) => !/warning:/.test(r)).join("; ")}`);

function describeRun(label: string, run: StateRun, timeoutMs: number): string {
  return [
    `state ${label}: exit code ${run.exit_code}${run.timed_out ? ` (timed out after ${timeoutMs / 1000}s)` : ""}, ` +
      `output ${run.parsed ? `parsed into ${run.tests.length} tests` : "not parsed (markers missing or no test recognised)"}`,
    run.tests.length
      ? `tests: ${run.tests
          .slice(0, 30)
          .map((t) => `${t.name} ${t.status}`)
          .join(", ")}`
      : "",
    "--- tail of the output ---",
    tail(run.log_tail, 3000),
  ]
    .filter(Boolean)
    .join("\n");
}

/** The stage a failing check belongs to, as the agent is told it. */
const STAGE: Partial<Record<CheckName, string>> = { static: "hacking-check", "quick-check": "resolved" };

/** The feedback for the check that failed: the stage, the reason and the evidence. */
function feedbackFor(
  check: CheckName,
  f: CheckFailure,
  verdicts: CheckVerdict[],
  timeoutMs: number,
): { stage: string; text: string } {
  if (check === "static")
    return {
      stage: "hacking-check",
      text: `The static hacking rules fired on evaluation.sh:\n${failedChecks(verdicts).join("\n")}\nA verifier must run the tests, not inspect the code.`,
    };
  if (check === "judge")
    return {
      stage: "hacking-check",
      text: `The LLM judge found the verifier dishonest:\n${failedChecks(verdicts).join("\n")}`,
    };
  if (check !== "quick-check")
    return {
      stage: STAGE[check] ?? "hacking-check",
      text: `A dynamic hacking probe fired:\n${failedChecks(verdicts).join("\n")}`,
    };
  const run = f.run;
  if (f.state === "buggy")
    return {
      stage: "buggy",
      text:
        f.reason === "buggy_passes" && run
          ? `It must exit non-zero without the fix: the tests you run do not exercise the bug.\n${describeRun("buggy (base + tests)", run, timeoutMs)}`
          : tail(f.detail, 2000),
    };
  const why =
    f.reason === "unparsed_output"
      ? "It exited 0 but its output could not be read as test results by the parser."
      : "It must exit 0.";
  const state = run ? describeRun("resolved (base + tests + fix)", run, timeoutMs) : f.detail;
  return {
    stage: "resolved",
    text: `${why} Evaluation ran offline in a fresh container of the rebuilt image.\n${state}`,
  };
}

/** Build the submission's image from its Dockerfile (the gate asks for it when a check first needs it). */
async function buildSubmission(task: Task, dockerfile: string, c: VerifyContext) {
  writeFileSync(join(c.contextDir, "Dockerfile"), dockerfile);
  const b = await c.sandbox.build({
    tag: c.tag,
    dockerfile,
    contextDir: c.contextDir,
    timeoutMs: c.buildTimeoutMs,
    network: true,
    labels: { "sweu.instance": task.instance_id },
  });
  if (b.ok) return { ok: true as const, image: c.tag };
  return {
    ok: false as const,
    reason: "install_failed" as const,
    detail: `The image build from your install script failed${b.timedOut ? " (timed out)" : ""}. Dockerfile:\n${dockerfile}\n--- tail of the build log ---\n${tail(b.log, 3000)}`,
  };
}

/**
 * Self-verification of one submission: the agent gate (src/checks/gate.ts) — static hacking rules, the
 * image rebuilt from its Dockerfile when a check first needs it, the resolved state must pass and the
 * buggy state fail, the dynamic probes, then the LLM judge. The first failure comes back as feedback
 * naming the stage, the check and the evidence.
 */
export async function verifySubmission(task: Task, sub: Submission, c: VerifyContext): Promise<Verified> {
  const plan = submissionPlan(task, sub, c.planName);
  const dockerfile = renderDockerfile({ baseImage: c.baseImage, plan, caDir: c.caDir });
  const e = evidence({
    task,
    testFiles: presentTestFiles(task),
    evaluationScript: sub.evaluationScript,
    parser: sub.parser,
    installScript: sub.install,
    files: c.files,
  });
  const names = gate(GATES.agent, { probes: c.probes, judge: !!c.judge });
  const g = await runGate(names, e, {
    sandbox: c.sandbox,
    parserFor: c.parserFor,
    model: c.judge,
    testTimeoutMs: c.testTimeoutMs,
    provideImage: () => buildSubmission(task, dockerfile, c),
    signal: c.signal,
  });
  const judgeUsage = e.usage;
  if (g.failure) {
    const f = g.failure;
    const { stage, text } = f.provision
      ? { stage: "build", text: f.detail }
      : feedbackFor(f.check, f, g.verdicts, c.testTimeoutMs);
    return {
      ok: false,
      stage,
      reason: f.reason,
      feedback: `submit rejected at the ${stage} stage (${f.reason}).\n${text}`,
      fatal: !!f.fatal,
      judgeUsage,
    };
  }
  const environment: Environment = {
    key: environmentKey(dockerfile, { base_commit: task.base_commit }),
    repo: task.repo,
    language: task.language,
    base_image: c.baseImage,
    dockerfile,
    image: c.tag,
    recipe: c.planName,
    toolchain: {},
    test_command: plan.test,
    parser: sub.parser,
    image_size_bytes: await c.sandbox.imageSize(c.tag),
    created_at: new Date().toISOString(),
  };
  return {
    ok: true,
    plan,
    dockerfile,
    evaluationScript: sub.evaluationScript,
    environment,
    runs: e.runs,
    checks: g.verdicts,
    judgeUsage,
  };
}
