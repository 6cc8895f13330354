import type { BuildPlan } from "../builder/recipes/types.ts";
import { shellValue } from "../util/shell.ts";

/**
 * Write evaluation.sh: run the tests, print their output between the nonce markers (src/harness/output.ts),
 * print JUnit reports in their own sections, and answer with the test runner's exit code.
 * The harness applies patches and the test patch before running it; the script only runs tests.
 */
export function renderEvaluationScript(plan: Pick<BuildPlan, "env" | "test" | "junit">): string {
  const exports = Object.entries(plan.env).map(([k, v]) => `export ${k}=${shellValue(v)}`);
  const junit = plan.junit
    ? [
        `for f in ${plan.junit}; do`,
        '  [ -f "$f" ] || continue',
        '  echo ">>>>> SWEU JUNIT START $nonce"',
        '  cat "$f"',
        '  echo ">>>>> SWEU JUNIT END $nonce"',
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
    'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
    `${plan.test} 2>&1`,
    "rc=$?",
    'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
    ...junit,
    "exit $rc",
    "",
  ].join("\n");
}
