/** Hand-written, schema-valid records for export tests. */
import { Candidate, Environment, Instance, Rejection, Task } from "../../src/records/index.ts";

export const SHA_A = "a".repeat(40);
export const SHA_B = "b".repeat(40);

export function makeInstance(over: Partial<Instance> & { instance_id: string }): Instance {
  return Instance.parse({
    repo: "acme/widgets",
    base_commit: SHA_A,
    patch: "diff --git a/src/w.py b/src/w.py\n--- a/src/w.py\n+++ b/src/w.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n",
    test_patch:
      "diff --git a/tests/test_w.py b/tests/test_w.py\n--- a/tests/test_w.py\n+++ b/tests/test_w.py\n@@ -1 +1 @@\n-a\n+b\n",
    problem_statement: 'Widgets are off by one.\n\nWith ünïcode and a tab\tand "quotes".',
    hints_text: "",
    created_at: "2024-05-01T10:00:00Z",
    version: "1.0",
    FAIL_TO_PASS: ["tests/test_w.py::test_off_by_one"],
    PASS_TO_PASS: ["tests/test_w.py::test_ok", "tests/test_w.py::test_other[a-b]"],
    environment_setup_commit: SHA_A,
    language: "python",
    image: "sweu/acme__widgets:env1",
    dockerfile: "FROM sweu-base\nRUN pip install .",
    evaluation_script: "#!/bin/bash\necho hi\n",
    parser: "pytest",
    environment_key: "env1",
    validation: {
      runs_per_state: 2,
      runs: [
        { state: "buggy", exit_code: 1, duration_ms: 1200, tests: [], parsed: true, log_tail: "FAILED 1" },
        { state: "buggy", exit_code: 1, duration_ms: 1100, tests: [], parsed: true, log_tail: "FAILED 2" },
        { state: "resolved", exit_code: 0, duration_ms: 900, tests: [], parsed: true, log_tail: "ok 1\n" },
        { state: "resolved", exit_code: 0, duration_ms: 950, tests: [], parsed: true, log_tail: "ok 2" },
      ],
      fail_to_pass: ["tests/test_w.py::test_off_by_one"],
      pass_to_pass: ["tests/test_w.py::test_ok"],
      flaky: [],
      image_rebuilt: true,
    },
    checks: [{ check: "static", kind: "static", passed: true, reasons: [] }],
    builder: { kind: "recipe", name: "python-pip", attempts: 1 },
    cost: { wall_ms: 60_000, build_ms: 40_000, validate_ms: 20_000 },
    ...over,
  });
}

export function makeCandidate(number: number, repo = "acme/widgets"): Candidate {
  return Candidate.parse({
    id: `${repo.replace("/", "__")}-${number}`,
    repo,
    number,
    title: `PR ${number}`,
    merged: true,
    created_at: "2024-05-01T10:00:00Z",
    merged_at: "2024-05-02T10:00:00Z",
    base_commit: SHA_A,
    resolved_commit: SHA_B,
    source: "git",
    merge_style: "merge",
    languages: ["python"],
  });
}

export function makeTask(number: number, language: Task["language"] = "python", repo = "acme/widgets"): Task {
  return Task.parse({
    instance_id: `${repo.replace("/", "__")}-${number}`,
    repo,
    number,
    base_commit: SHA_A,
    resolved_commit: SHA_B,
    created_at: "2024-05-01T10:00:00Z",
    patch: "p",
    test_patch: "t",
    problem_statement: "s",
    problem_statement_source: "pr",
    language,
    languages: [language],
    test_files: [],
    code_files: [],
  });
}

export function makeRejection(
  number: number,
  stage: Rejection["stage"],
  reason: Rejection["reason"],
  repo = "acme/widgets",
): Rejection {
  return Rejection.parse({
    id: `${repo.replace("/", "__")}-${number}`,
    repo,
    number,
    stage,
    reason,
    at: "2024-05-03T00:00:00Z",
  });
}

export function makeEnvironment(key: string, image: string, size?: number): Environment {
  return Environment.parse({
    key,
    repo: "acme/widgets",
    language: "python",
    base_image: "sweu-base",
    dockerfile: "FROM sweu-base",
    image,
    recipe: "python-pip",
    test_command: "pytest {tests}",
    parser: "pytest",
    image_size_bytes: size,
    created_at: "2024-05-01T10:00:00Z",
  });
}
