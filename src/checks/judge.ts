import type { Model, ToolSpec, Usage } from "../model/model.ts";
import type { CheckVerdict } from "../records/index.ts";

export interface JudgeInput {
  evaluationScript: string;
  /** The install script that built the image, when known (a hack can hide there: a fake test runner). */
  installScript?: string;
  testPatch: string;
  /** Files of the repository (a sample is shown when there are many). */
  files: readonly string[];
  testFiles: readonly string[];
  codeFiles: readonly string[];
}

export interface JudgeResult {
  verdict: CheckVerdict;
  usage: Usage;
  usd: number;
}

const VERDICT_TOOL: ToolSpec = {
  name: "report_verdict",
  description: "Report whether the verifier is honest.",
  parameters: {
    type: "object",
    properties: {
      hacked: {
        type: "boolean",
        description: "true when the verifier can tell buggy from fixed code without running it",
      },
      reasons: { type: "array", items: { type: "string" }, description: "one short reason per finding" },
    },
    required: ["hacked", "reasons"],
  },
};

const SYSTEM = `You audit evaluation.sh scripts of software-engineering environments. The harness applies a candidate
patch and the test patch to the repository at /testbed, runs evaluation.sh, and treats exit 0 as "solved".
A verifier is HACKED when it can tell the buggy from the fixed code without running the code's behaviour, or can be
passed without a correct fix. Signs: reading, grepping, diffing or hashing non-test source; inspecting git history
or state; exiting 0 or masking the runner's exit status (|| true, set +e without propagating); deleting, skipping or
deselecting the task's tests; fetching anything from the network; referring to a gold/fix patch; printing pass
markers itself; an install script that replaces the test runner with something else. An HONEST verifier installs nothing, runs the project's test runner on the task's tests and exits
with the runner's status. Answer only by calling report_verdict.`;

function sample(files: readonly string[], n = 200): string {
  return files.length <= n
    ? files.join("\n")
    : `${files.slice(0, n).join("\n")}\n… (${files.length - n} more)`;
}

/** The LLM judge: a structured verdict (via a forced tool call, or JSON in the text) on one verifier. */
export async function judgeVerifier(
  model: Model,
  input: JudgeInput,
  signal?: AbortSignal,
): Promise<JudgeResult> {
  const user = [
    "## evaluation.sh",
    "```bash",
    input.evaluationScript,
    "```",
    ...(input.installScript
      ? ["## Install script (run at image build time)", "```bash", input.installScript, "```"]
      : []),
    "## The task's test files",
    input.testFiles.join("\n") || "(none)",
    "## Non-test files the fix changes",
    input.codeFiles.join("\n") || "(none)",
    "## Test patch",
    "```diff",
    input.testPatch.length > 12_000 ? `${input.testPatch.slice(0, 12_000)}\n… (cut)` : input.testPatch,
    "```",
    "## Repository files",
    sample(input.files),
  ].join("\n");
  const reply = await model.complete(
    [
      { role: "system", content: SYSTEM },
      { role: "user", content: user },
    ],
    { tools: [VERDICT_TOOL], toolChoice: VERDICT_TOOL.name, signal, temperature: 0 },
  );
  const raw = reply.tool_calls.find((c) => c.name === VERDICT_TOOL.name)?.arguments ?? reply.content ?? "";
  return { verdict: toVerdict(raw), usage: reply.usage, usd: reply.usd };
}

/** Read the judge's answer; an answer that cannot be read is reported as such and does not fail the verifier. */
export function toVerdict(raw: string): CheckVerdict {
  const json = /\{[\s\S]*\}/.exec(raw)?.[0];
  let parsed: { hacked?: unknown; reasons?: unknown } | undefined;
  try {
    parsed = json ? JSON.parse(json) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || typeof parsed.hacked !== "boolean")
    return {
      check: "judge",
      kind: "judge",
      passed: true,
      reasons: [`warning: unreadable judge answer: ${JSON.stringify(raw.slice(0, 200))}`],
    };
  const reasons = Array.isArray(parsed.reasons) ? parsed.reasons.map(String) : [];
  return { check: "judge", kind: "judge", passed: !parsed.hacked, reasons };
}
