import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crossCheckVerdict, grade, gradeEvaluation } from "../../src/harness/grade.ts";
import { getParser } from "../../src/harness/parsers/index.ts";
import type { StateRun, TestResult, TestStatus } from "../../src/records/index.ts";

type Tests = Record<string, TestStatus>;
function run(
  state: StateRun["state"],
  exit_code: number,
  tests: Tests,
  extra: Partial<StateRun> = {},
): StateRun {
  const list: TestResult[] = Object.entries(tests).map(([name, status]) => ({ name, status }));
  return {
    state,
    exit_code,
    timed_out: false,
    duration_ms: 10,
    tests: list,
    parsed: list.length > 0,
    log_tail: "",
    ...extra,
  };
}
const times = (n: number, f: () => StateRun) => Array.from({ length: n }, f);

describe("grade", () => {
  const buggy: Tests = { t_fix: "FAILED", t_err: "ERROR", t_keep: "PASSED", t_skip: "SKIPPED" };
  const resolved: Tests = {
    t_fix: "PASSED",
    t_err: "PASSED",
    t_keep: "PASSED",
    t_skip: "SKIPPED",
    t_new: "PASSED",
  };

  it("finds fail-to-pass (failed, errored or missing in buggy) and pass-to-pass over three runs each", () => {
    const g = grade([
      ...times(3, () => run("buggy", 1, buggy)),
      ...times(3, () => run("resolved", 0, resolved)),
    ]);
    expect(g).toMatchObject({
      verdict: "ok",
      fail_to_pass: ["t_err", "t_fix", "t_new"],
      pass_to_pass: ["t_keep"],
      flaky: [],
      suspicious: [],
    });
  });

  it("puts tests that change between runs of one state in flaky, out of both lists", () => {
    const g = grade([
      run("buggy", 1, buggy),
      run("buggy", 1, { ...buggy, t_keep: "FAILED" }),
      run("resolved", 0, resolved),
      run("resolved", 0, { ...resolved, t_err: "FAILED", t_new: "SKIPPED" }),
    ]);
    expect(g.flaky).toEqual(["t_err", "t_keep", "t_new"]);
    expect(g.fail_to_pass).toEqual(["t_fix"]);
    expect(g.pass_to_pass).toEqual([]);
    expect(g.verdict).toBe("ok");
  });

  it("treats a buggy run that printed no results (a compile error) as every test failing", () => {
    const g = grade([
      run("buggy", 2, {}, { parsed: false }),
      run("buggy", 2, { t_fix: "FAILED" }),
      run("resolved", 0, { t_fix: "PASSED", t_other: "PASSED" }),
    ]);
    expect(g).toMatchObject({
      verdict: "ok",
      fail_to_pass: ["t_fix", "t_other"],
      pass_to_pass: [],
      flaky: [],
    });
  });

  const cases: [string, StateRun[], string, RegExp][] = [
    [
      "buggy exits 0",
      [run("buggy", 0, buggy), run("resolved", 0, resolved)],
      "buggy_passes",
      /buggy state exits 0/,
    ],
    ["resolved fails", [run("buggy", 1, buggy), run("resolved", 1, resolved)], "resolved_fails", /runs: 1/],
    [
      "resolved times out",
      [run("buggy", 1, buggy), run("resolved", 137, {}, { timed_out: true, parsed: false })],
      "tests_timeout",
      /timeout/,
    ],
    [
      "buggy exit differs",
      [run("buggy", 1, buggy), run("buggy", 0, buggy), run("resolved", 0, resolved)],
      "inconsistent_exit",
      /buggy exit codes differ between runs: 1,0/,
    ],
    [
      "resolved exit differs",
      [run("buggy", 1, buggy), run("resolved", 0, resolved), run("resolved", 1, resolved)],
      "inconsistent_exit",
      /resolved exit codes differ/,
    ],
    [
      "resolved output unparsed",
      [run("buggy", 1, buggy), run("resolved", 0, {}, { parsed: false })],
      "unparsed_output",
      /resolved run 1: no test results parsed/,
    ],
    [
      "nothing turns from failing to passing",
      [run("buggy", 1, { a: "PASSED", b: "FAILED" }), run("resolved", 0, { a: "PASSED", b: "FAILED" })],
      "no_fail_to_pass",
      /1 pass-to-pass/,
    ],
    ["no runs of a state", [run("buggy", 1, buggy)], "internal_error", /resolved 0/],
  ];
  for (const [what, runs, verdict, detail] of cases) {
    it(`rejects when ${what}: ${verdict}`, () => {
      const g = grade(runs);
      expect(g.verdict).toBe(verdict);
      expect(g.detail).toMatch(detail);
    });
  }

  it("reports runs whose exit code and parsed results disagree", () => {
    const g = grade([
      run("buggy", 1, { a: "PASSED" }),
      run("resolved", 0, { a: "PASSED", b: "FAILED" }),
      run("resolved", 0, {}, { parsed: false }),
    ]);
    expect(g.suspicious).toEqual([
      "buggy run 1: exit 1 but every parsed test passed or was skipped",
      "resolved run 1: exit 0 but 1 test(s) failed: b",
      "resolved run 2: exit 0 but no test results were parsed",
    ]);
    expect(g.verdict).toBe("unparsed_output");
  });

  it("records the cross-check as a verdict that fails only when a resolved run exits 0 over failing tests", () => {
    const honest = crossCheckVerdict([run("buggy", 1, { a: "FAILED" }), run("resolved", 0, { a: "PASSED" })]);
    expect(honest).toMatchObject({ check: "exit-code-cross-check", passed: true });
    expect(honest.reasons).toEqual(["exit codes agree with the parsed results in all 2 runs"]);
    // A buggy run that dies before naming a failing test (a compile error) is noted, not held against it.
    const compile = crossCheckVerdict([
      run("buggy", 2, { a: "PASSED" }),
      run("resolved", 0, { a: "PASSED" }),
    ]);
    expect(compile.passed).toBe(true);
    expect(compile.reasons[0]).toMatch(/buggy run 1: exit 2 but every parsed test passed/);
    const swallowed = crossCheckVerdict([
      run("buggy", 1, { a: "FAILED" }),
      run("resolved", 0, { a: "PASSED", b: "FAILED" }),
    ]);
    expect(swallowed.passed).toBe(false);
    expect(swallowed.reasons).toEqual(["resolved run 1: exit 0 but 1 test(s) failed: b"]);
  });

  it("grades real pytest output of the buggy and resolved states", () => {
    const dir = join(import.meta.dirname, "../fixtures/runner-output/pytest");
    const parse = getParser("pytest");
    const buggyTests = parse(readFileSync(join(dir, "collection-error.log"), "utf8"));
    // The "resolved" state: every test the buggy run named now passes.
    const resolvedTests = buggyTests.map(
      (t) => ({ ...t, status: t.status === "SKIPPED" ? t.status : "PASSED" }) as TestResult,
    );
    const g = grade([
      {
        state: "buggy",
        exit_code: 1,
        timed_out: false,
        duration_ms: 1,
        tests: buggyTests,
        parsed: true,
        log_tail: "",
      },
      {
        state: "resolved",
        exit_code: 0,
        timed_out: false,
        duration_ms: 1,
        tests: resolvedTests,
        parsed: true,
        log_tail: "",
      },
    ]);
    expect(g.verdict).toBe("ok");
    expect(g.fail_to_pass).toEqual([
      "tests/test_broken.py",
      "tests/test_calc.py::TestGroup::test_in_class_fail",
      "tests/test_calc.py::test_add_wrong",
      "tests/test_calc.py::test_fixture_error",
      "tests/test_calc.py::test_param[x y-z]",
    ]);
    expect(g.pass_to_pass).toHaveLength(5);
  });
});

describe("gradeEvaluation", () => {
  const instance = { FAIL_TO_PASS: ["f1", "f2"], PASS_TO_PASS: ["p1"] };
  const ev = (exit_code: number, tests: Tests, extra: { timed_out?: boolean; parsed?: boolean } = {}) =>
    gradeEvaluation(instance, {
      exit_code,
      tests: run("resolved", exit_code, tests).tests,
      parsed: true,
      ...extra,
    });

  it("resolves only with exit 0 and every expected test passing", () => {
    const r = ev(0, { f1: "PASSED", f2: "PASSED", p1: "PASSED", extra: "FAILED" });
    expect(r).toMatchObject({ resolved: true, detail: "resolved", missing: [] });
    expect(r.tests_status).toEqual({
      FAIL_TO_PASS: { success: ["f1", "f2"], failure: [] },
      PASS_TO_PASS: { success: ["p1"], failure: [] },
    });
  });

  it("counts missing and skipped tests as failures", () => {
    const r = ev(0, { f1: "PASSED", p1: "SKIPPED" });
    expect(r.resolved).toBe(false);
    expect(r.missing).toEqual(["f2"]);
    expect(r.tests_status.FAIL_TO_PASS.failure).toEqual(["f2"]);
    expect(r.tests_status.PASS_TO_PASS.failure).toEqual(["p1"]);
    expect(r.detail).toBe("2 expected test(s) not passing (1 missing)");
  });

  it("is not fooled by printed passes when the exit code says otherwise, nor by exit 0 with broken P2P", () => {
    const all: Tests = { f1: "PASSED", f2: "PASSED", p1: "PASSED" };
    expect(ev(1, all)).toMatchObject({ resolved: false, detail: "exit 1" });
    expect(ev(0, all, { timed_out: true })).toMatchObject({ resolved: false, detail: "timed out" });
    expect(ev(0, { ...all, p1: "ERROR" })).toMatchObject({ resolved: false });
    expect(ev(0, {}, { parsed: false }).detail).toBe(
      "output not parsed; 3 expected test(s) not passing (3 missing)",
    );
  });
});
