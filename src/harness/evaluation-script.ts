import { shellValue } from "../util/shell.ts";
import { listCommand } from "./list.ts";
import { MARK } from "./output.ts";

/**
 * Write evaluation.sh: run the tests, print their output between the nonce markers (src/harness/output.ts),
 * print JUnit reports in their own sections, and answer with the test runner's exit code.
 * The harness applies patches and the test patch before running it; the script only runs tests.
 */
/** What evaluation.sh is made of: a plan's environment, its test command and where JUnit reports land. */
export interface EvaluationPlan {
  env: Record<string, string>;
  test: string;
  junit?: string;
}

export function renderEvaluationScript(plan: EvaluationPlan): string {
  const exports = Object.entries(plan.env).map(([k, v]) => `export ${k}=${shellValue(v)}`);
  const junit = plan.junit
    ? [
        `for f in ${plan.junit}; do`,
        '  [ -f "$f" ] || continue',
        `  echo "${MARK.junitStart("$nonce")}"`,
        '  cat "$f"',
        `  echo "${MARK.junitEnd("$nonce")}"`,
        "done",
      ]
    : [];
  return [
    "#!/bin/bash",
    "set -uo pipefail",
    "cd /testbed",
    ...exports,
    'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
    ...(plan.junit ? [`rm -f ${plan.junit}`] : []),
    `echo "${MARK.testStart("$nonce")}"`,
    `${plan.test} 2>&1`,
    "rc=$?",
    `echo "${MARK.testEnd("$nonce")}"`,
    ...junit,
    "exit $rc",
    "",
  ].join("\n");
}

/**
 * The listing script: evaluation.sh's frame (environment, markers) around the runner's list command, for
 * the runners that can list tests without running them (src/harness/list.ts); undefined for the others.
 */
export function renderListScript(plan: EvaluationPlan & { parser: string }): string | undefined {
  const test = listCommand(plan.parser, plan.test);
  return test ? renderEvaluationScript({ env: plan.env, test }) : undefined;
}
