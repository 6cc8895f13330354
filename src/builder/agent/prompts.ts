import { presentTestFiles } from "../../harness/run-state.ts";
import type { Task } from "../../records/index.ts";

export const SYSTEM_PROMPT = `You are an environment-building agent. You turn a merged pull request into a verifiable
software-engineering environment: a container image with the repository at /testbed and its dependencies installed,
and an evaluation.sh that runs the pull request's tests.

You work in a Debian bookworm container (root, network on) with the repository at /testbed. Tools:
- bash: run commands; read_file / write_file: look at and edit files.
- switch_to_bug: /testbed = base commit + the PR's tests (the bug is present; the tests should fail).
- switch_to_resolved: /testbed = base + tests + the PR's fix (the tests should pass).
- submit: hand in apt_packages, an install script and a test_command (or a full evaluation_script) and the
  parser name. Verification rebuilds the image FROM SCRATCH from your install script (what you installed by hand in
  this container does not carry over), runs the tests offline in the resolved state (must exit 0) and in the buggy
  state (must exit non-zero), and runs hacking checks. You get the exact failure back; fix it and submit again.

Rules for an honest verifier (violations are detected and rejected):
- Run the project's real test runner on the PR's test files; exit with the runner's status.
- Never read, grep, diff or hash source files, inspect git state, fetch from the network, refer to the fix patch,
  print PASSED lines yourself, delete/skip/deselect tests, or mask failures (|| true, exit 0).
- Install nothing at evaluation time: evaluation runs without network.
Work step by step: inspect the repository, install, run the tests in both states, then submit.`;

export const GENERATE_TESTS = `This pull request has NO tests. Write fail-to-pass tests yourself: new test files (in the
project's test style and runner) that fail on the buggy code and pass with the fix. Check them with switch_to_bug and
switch_to_resolved. Do not edit non-test code. List the files in submit's test_files: they become the test patch.`;

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}\n… (${s.length - n} characters cut)` : s;
}

export function taskPrompt(
  task: Task,
  files: readonly string[],
  generateTests: boolean,
  priorFailure?: string,
): string {
  const shown = files.length > 300 ? [...files.slice(0, 300), `… (${files.length - 300} more)`] : files;
  return [
    `Repository: ${task.repo} (${task.language}), pull request #${task.number}, base commit ${task.base_commit}.`,
    "",
    "## Problem statement",
    cut(task.problem_statement, 6000),
    "",
    "## Files the fix changes",
    task.code_files.join("\n") || "(none)",
    "",
    ...(generateTests
      ? [GENERATE_TESTS]
      : [
          "## The PR's test files",
          presentTestFiles(task).join("\n"),
          "",
          "## Test patch",
          "```diff",
          cut(task.test_patch, 12_000),
          "```",
        ]),
    "",
    "## Repository files",
    shown.join("\n"),
    "",
    ...(priorFailure
      ? ["## What the automatic recipes tried, and why it failed", "```", cut(priorFailure, 4000), "```", ""]
      : []),
    "/testbed is in the buggy state now.",
  ].join("\n");
}
