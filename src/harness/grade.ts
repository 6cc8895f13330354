import type { CheckVerdict, ReasonCode, StateRun, TestResult, TestStatus } from "../records/index.ts";
import { collector } from "./parsers/common.ts";

/** How a test showed up in one run; MISSING when the run's output did not name it. */
type Seen = TestStatus | "MISSING";

export interface GradeResult {
  fail_to_pass: string[];
  pass_to_pass: string[];
  /** Tests whose outcome differed between runs of the same state; kept out of both lists. */
  flaky: string[];
  verdict: "ok" | ReasonCode;
  detail: string;
  /** Runs whose exit code and parsed results disagree (reported, not by themselves a rejection). */
  suspicious: string[];
}

function statuses(run: Pick<StateRun, "tests">): Map<string, TestStatus> {
  const c = collector();
  for (const t of run.tests) c.add(t.name, t.status);
  return new Map(c.results().map((r) => [r.name, r.status]));
}

const isFailing = (s: Seen) => s === "FAILED" || s === "ERROR" || s === "MISSING";
const hasParsedTests = (r: StateRun) => r.parsed && r.tests.length > 0;

/** The exit-code / parsed-results cross-check for one run. */
export function crossCheck(run: StateRun, index: number): string | undefined {
  const label = `${run.state} run ${index + 1}`;
  const failing = run.tests.filter((t) => t.status === "FAILED" || t.status === "ERROR").map((t) => t.name);
  if (run.exit_code === 0 && !hasParsedTests(run)) return `${label}: exit 0 but no test results were parsed`;
  if (run.exit_code === 0 && failing.length > 0) {
    return `${label}: exit 0 but ${failing.length} test(s) failed: ${failing.slice(0, 5).join(", ")}`;
  }
  if (run.exit_code !== 0 && !run.timed_out && hasParsedTests(run) && failing.length === 0) {
    return `${label}: exit ${run.exit_code} but every parsed test passed or was skipped`;
  }
  return undefined;
}

/**
 * The cross-check as a recorded verdict. It fails when a resolved run exits 0 while its parsed results show
 * failing tests: the script's exit code, which users take as the reward, does not follow the tests (a
 * swallowed failure). Other disagreements (a buggy run that fails before printing any failing test, e.g. a
 * compile error) are noted and pass.
 */
export function crossCheckVerdict(runs: StateRun[]): CheckVerdict {
  const notes = runs
    .map((r) => crossCheck(r, runs.filter((x) => x.state === r.state).indexOf(r)))
    .filter((s): s is string => s !== undefined);
  const lying = runs.some(
    (r) =>
      r.state === "resolved" &&
      r.exit_code === 0 &&
      r.tests.some((t) => t.status === "FAILED" || t.status === "ERROR"),
  );
  return {
    check: "exit-code-cross-check",
    kind: "dynamic",
    passed: !lying,
    reasons: notes.length ? notes : [`exit codes agree with the parsed results in all ${runs.length} runs`],
  };
}

/**
 * The rejection the runs' exit codes call for, else undefined: a state whose runs disagree, a buggy state
 * that passes, a resolved state that fails. Either list may be empty (the runs so far, when a gate stops
 * early at a run that already rejects the instance).
 */
export function exitVerdict(
  buggy: StateRun[],
  resolved: StateRun[],
): { verdict: ReasonCode; detail: string } | undefined {
  const codes = (rs: StateRun[]) => rs.map((r) => (r.timed_out ? "timeout" : String(r.exit_code))).join(",");
  const buggyFails = buggy.map((r) => r.exit_code !== 0 || r.timed_out);
  const resolvedPasses = resolved.map((r) => r.exit_code === 0 && !r.timed_out);
  if (new Set(buggyFails).size > 1) {
    return { verdict: "inconsistent_exit", detail: `buggy exit codes differ between runs: ${codes(buggy)}` };
  }
  if (new Set(resolvedPasses).size > 1) {
    return {
      verdict: "inconsistent_exit",
      detail: `resolved exit codes differ between runs: ${codes(resolved)}`,
    };
  }
  if (buggy.length && !buggyFails[0])
    return { verdict: "buggy_passes", detail: `buggy state exits 0 (runs: ${codes(buggy)})` };
  if (resolved.length && !resolvedPasses[0]) {
    const allTimeout = resolved.every((r) => r.timed_out);
    return {
      verdict: allTimeout ? "tests_timeout" : "resolved_fails",
      detail: `resolved state does not exit 0 (runs: ${codes(resolved)})`,
    };
  }
  return undefined;
}

/**
 * Grades validation runs of both states. FAIL_TO_PASS: failed, errored or missing in every buggy run and
 * passed in every resolved run. PASS_TO_PASS: passed in every run of both states. A test seen differently
 * in two runs of one state is flaky and in neither list. Verdict: the buggy state must exit non-zero and the
 * resolved state 0 in every run, the resolved output must parse, and at least one FAIL_TO_PASS must exist.
 */
export function grade(runs: StateRun[]): GradeResult {
  const buggy = runs.filter((r) => r.state === "buggy");
  const resolved = runs.filter((r) => r.state === "resolved");
  const suspicious = runs
    .map((r) => crossCheck(r, runs.filter((x) => x.state === r.state).indexOf(r)))
    .filter((s): s is string => s !== undefined);
  const empty = { fail_to_pass: [], pass_to_pass: [], flaky: [], suspicious };
  if (buggy.length === 0 || resolved.length === 0) {
    return {
      ...empty,
      verdict: "internal_error",
      detail: `need runs of both states (buggy ${buggy.length}, resolved ${resolved.length})`,
    };
  }

  const maps = { buggy: buggy.map(statuses), resolved: resolved.map(statuses) };
  const names = [...new Set([...maps.buggy, ...maps.resolved].flatMap((m) => [...m.keys()]))];
  const seen = (ms: Map<string, TestStatus>[], n: string): Seen[] => ms.map((m) => m.get(n) ?? "MISSING");
  const flaky: string[] = [];
  const f2p: string[] = [];
  const p2p: string[] = [];
  for (const n of names) {
    const b = seen(maps.buggy, n);
    const r = seen(maps.resolved, n);
    // A buggy run that failed before printing results (compile error) is consistent with "failing".
    const bConsistent = new Set(b.map((s) => (isFailing(s) ? "fail" : s))).size === 1;
    if (new Set(r).size > 1 || !bConsistent) {
      flaky.push(n);
      continue;
    }
    if (r[0] !== "PASSED") continue;
    if (b.every(isFailing)) f2p.push(n);
    else if (b.every((s) => s === "PASSED")) p2p.push(n);
  }
  const lists = { fail_to_pass: f2p.sort(), pass_to_pass: p2p.sort(), flaky: flaky.sort(), suspicious };

  const exit = exitVerdict(buggy, resolved);
  if (exit) return { ...lists, ...exit };
  const unparsed = resolved.findIndex((r) => !hasParsedTests(r));
  if (unparsed >= 0) {
    return {
      ...lists,
      verdict: "unparsed_output",
      detail: `resolved run ${unparsed + 1}: no test results parsed`,
    };
  }
  if (f2p.length === 0) {
    return {
      ...lists,
      verdict: "no_fail_to_pass",
      detail: `no test fails in every buggy run and passes in every resolved run (${p2p.length} pass-to-pass, ${flaky.length} flaky)`,
    };
  }
  return {
    ...lists,
    verdict: "ok",
    detail: `${f2p.length} fail-to-pass, ${p2p.length} pass-to-pass, ${flaky.length} flaky`,
  };
}

export interface TestsStatus {
  success: string[];
  failure: string[];
}

export interface EvaluationReport {
  resolved: boolean;
  exit_code: number;
  timed_out: boolean;
  parsed: boolean;
  tests_status: { FAIL_TO_PASS: TestsStatus; PASS_TO_PASS: TestsStatus };
  /** Expected tests the output did not name (counted as failures). */
  missing: string[];
  detail: string;
}

/**
 * SWE-bench's sense of "resolved" for one evaluation run of a candidate patch: exit 0, not timed out, and
 * every FAIL_TO_PASS and PASS_TO_PASS test PASSED in the parsed output. A test missing from the output, or
 * skipped, counts as failed.
 */
export function gradeEvaluation(
  instance: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] },
  run: { exit_code: number; timed_out?: boolean; parsed: boolean; tests: TestResult[] },
): EvaluationReport {
  const got = statuses(run);
  const missing: string[] = [];
  const split = (names: string[]): TestsStatus => {
    const out: TestsStatus = { success: [], failure: [] };
    for (const n of names) {
      const s = got.get(n);
      if (s === undefined) missing.push(n);
      (s === "PASSED" ? out.success : out.failure).push(n);
    }
    return out;
  };
  const tests_status = {
    FAIL_TO_PASS: split(instance.FAIL_TO_PASS),
    PASS_TO_PASS: split(instance.PASS_TO_PASS),
  };
  const timed_out = run.timed_out ?? false;
  const failures = tests_status.FAIL_TO_PASS.failure.length + tests_status.PASS_TO_PASS.failure.length;
  const reasons: string[] = [];
  if (timed_out) reasons.push("timed out");
  if (run.exit_code !== 0) reasons.push(`exit ${run.exit_code}`);
  if (!run.parsed) reasons.push("output not parsed");
  if (failures > 0) reasons.push(`${failures} expected test(s) not passing (${missing.length} missing)`);
  const resolved = reasons.length === 0;
  return {
    resolved,
    exit_code: run.exit_code,
    timed_out,
    parsed: run.parsed,
    tests_status,
    missing,
    detail: resolved ? "resolved" : reasons.join("; "),
  };
}
