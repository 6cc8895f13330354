import type {
  CheckVerdict,
  ReasonCode,
  StateRun,
  TestCategories,
  TestResult,
  TestStatus,
} from "../records/index.ts";
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
  /** Multi-SWE-bench's per-test categories. */
  categories: TestCategories;
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
export function crossCheckVerdict(all: StateRun[]): CheckVerdict {
  // The base state runs without the test patch: its exit code is nobody's verdict.
  const runs = all.filter((r) => r.state !== "base");
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

/** What is known of the base state (base commit, no test patch): which tests were there and passed. */
export interface BaseKnowledge {
  /** A test was there at the base commit and passed (runs), or was there (a listing: it is not run). */
  passes(name: string): boolean;
}

/** Base knowledge from base-state runs: a test passed in every one of them. */
export function baseFromRuns(runs: readonly StateRun[]): BaseKnowledge | undefined {
  const base = runs.filter((r) => r.state === "base");
  if (!base.length) return undefined;
  const maps = base.map(statuses);
  return { passes: (n) => maps.every((m) => m.get(n) === "PASSED") };
}

export interface GradeOptions {
  /** The base state; default: from the runs of state "base" among the runs, if any. */
  base?: BaseKnowledge;
  /** The test patch: a test it names is the PR's own, never moved to PASS_TO_PASS from the base state. */
  testPatch?: string;
}

interface Tally {
  categories: TestCategories;
  flaky: string[];
}

/** Sorts each test into Multi-SWE-bench's categories from its statuses across the runs of each state. */
function categorize(buggy: StateRun[], resolved: StateRun[], o: GradeOptions): Tally {
  const maps = { buggy: buggy.map(statuses), resolved: resolved.map(statuses) };
  const names = [...new Set([...maps.buggy, ...maps.resolved].flatMap((m) => [...m.keys()]))];
  const seen = (ms: Map<string, TestStatus>[], n: string): Seen[] => ms.map((m) => m.get(n) ?? "MISSING");
  const named = o.testPatch === undefined ? () => false : namedByPatch(o.testPatch);
  const c: TestCategories = { p2p: [], f2p: [], s2p: [], n2p: [], from_base: [], anomalies: [] };
  const flaky: string[] = [];
  for (const n of names) {
    const b = seen(maps.buggy, n);
    const r = seen(maps.resolved, n);
    // A buggy run that failed before printing results (compile error) is consistent with "failing".
    const bConsistent = new Set(b.map((s) => (isFailing(s) ? "fail" : s))).size === 1;
    if (new Set(r).size > 1 || !bConsistent) {
      flaky.push(n);
      continue;
    }
    const atBase = o.base?.passes(n) ?? false;
    if (r[0] !== "PASSED") {
      const pattern = anomaly(b[0]!, r[0]!, atBase);
      if (pattern)
        c.anomalies.push({
          test: n,
          ...(o.base ? { base: atBase ? "PASSED" : "other" } : {}),
          buggy: b[0] === "MISSING" ? "NONE" : b[0]!,
          resolved: r[0] === "MISSING" ? "NONE" : r[0]!,
          pattern,
        });
      continue;
    }
    if (b.every((s) => s === "PASSED")) c.p2p.push(n);
    else if (b.every((s) => s === "SKIPPED")) c.s2p.push(n);
    else if (b.every((s) => s === "MISSING")) {
      c.n2p.push(n);
      if (atBase && !named(n)) c.from_base.push(n);
    } else if (b.every(isFailing)) c.f2p.push(n);
  }
  for (const list of [c.p2p, c.f2p, c.s2p, c.n2p, c.from_base, flaky]) list.sort();
  return { categories: c, flaky };
}

/** Multi-SWE-bench's rejected patterns for a test that does not pass after the fix. */
function anomaly(buggy: Seen, resolved: Seen, atBase: boolean): string | undefined {
  if (buggy === "PASSED" && isFailing(resolved)) return "p2f: passes with the test patch, fails with the fix";
  if (atBase && (buggy === "MISSING" || buggy === "SKIPPED") && isFailing(resolved))
    return "passes at the base commit, gone or skipped with the test patch, fails with the fix";
  return undefined;
}

/**
 * The lists from the categories. FAIL_TO_PASS: the tests the PR makes pass that did not pass before — failed,
 * skipped or absent with the test patch alone, passing with the fix — except the ones the base state shows
 * passing before the PR whose build the test patch broke (`from_base`). PASS_TO_PASS: passing with the test
 * patch and with the fix, and `from_base`.
 */
export function listsOf(c: TestCategories): { fail_to_pass: string[]; pass_to_pass: string[] } {
  const fromBase = new Set(c.from_base);
  const f2p = [...c.f2p, ...c.s2p, ...c.n2p.filter((n) => !fromBase.has(n))].sort();
  return { fail_to_pass: f2p, pass_to_pass: [...c.p2p, ...c.from_base].sort() };
}

/**
 * Tests the test patch names, by the last part of their name ("pkg/test_x.py::TestC::test_m[1]" → test_m,
 * "TestFoo/new_case" → new_case, "Suite › does x" → does x): it appears in a line the patch adds or removes,
 * or in the header of a hunk that changes the code of the function the header names (a hunk that only adds
 * a new function after it does not). Such a test is the PR's own even when it existed at the base commit
 * (the PR changed it).
 */
export function namedByPatch(testPatch: string): (name: string) => boolean {
  const changed: string[] = [];
  let header: string | undefined;
  for (const line of testPatch.split("\n")) {
    if (line.startsWith("+++ ") || line.startsWith("--- ") || line.startsWith("diff --git ")) {
      header = undefined;
      continue;
    }
    if (line.startsWith("@@")) {
      header = line.replace(/^@@[^@]*@@/, "");
      continue;
    }
    const sign = line[0];
    if (sign !== "+" && sign !== "-" && sign !== " ") continue;
    const text = line.slice(1);
    // An unindented line that is not a closing bracket starts another top-level item: the header's
    // function ends before it.
    if (/^\S/.test(text) && !/^[)}\]]+[;,)]*\s*$|^end\b/.test(text)) header = undefined;
    if (sign === " ") continue;
    changed.push(text);
    if (header !== undefined && text.trim() && !/^\s*[)}\]]+[;,)]*\s*$/.test(text)) {
      changed.push(header);
      header = undefined;
    }
  }
  const text = changed.join("\n");
  const words = new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []);
  return (name) => {
    const leaf = testLeaf(name);
    if (leaf.length < 3) return false;
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(leaf))
      return words.has(leaf) || text.includes(leaf.replace(/_/g, " "));
    return text.includes(leaf);
  };
}

/** The last part of a test's name, without parameters. */
export function testLeaf(name: string): string {
  const parts = name
    .replace(/\[[^\]]*\]$/, "")
    .replace(/\([^)]*\)$/, "")
    .split(/::| › | > |\/|(?<=[A-Za-z0-9_])\.(?=[A-Za-z_])/)
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.at(-1) ?? name;
}

/**
 * Grades validation runs (DESIGN §3). The tests are sorted into Multi-SWE-bench's categories (see
 * TestCategories) and the lists made from them (listsOf); a test seen differently in two runs of one state
 * is flaky and in neither list. Verdict: the buggy state must exit non-zero and the resolved state 0 in
 * every run, the resolved output must parse, and at least one FAIL_TO_PASS must exist. Multi-SWE-bench's
 * anomalies are recorded; every one of them fails a resolved run, which the exit verdict or the exit-code
 * cross-check rejects.
 */
export function grade(runs: StateRun[], o: GradeOptions = {}): GradeResult {
  const buggy = runs.filter((r) => r.state === "buggy");
  const resolved = runs.filter((r) => r.state === "resolved");
  const suspicious = runs
    .filter((r) => r.state !== "base")
    .map((r) => crossCheck(r, runs.filter((x) => x.state === r.state).indexOf(r)))
    .filter((s): s is string => s !== undefined);
  const none: TestCategories = { p2p: [], f2p: [], s2p: [], n2p: [], from_base: [], anomalies: [] };
  const empty = { fail_to_pass: [], pass_to_pass: [], flaky: [], suspicious, categories: none };
  if (buggy.length === 0 || resolved.length === 0) {
    return {
      ...empty,
      verdict: "internal_error",
      detail: `need runs of both states (buggy ${buggy.length}, resolved ${resolved.length})`,
    };
  }
  const { categories, flaky } = categorize(buggy, resolved, { ...o, base: o.base ?? baseFromRuns(runs) });
  const { fail_to_pass: f2p, pass_to_pass: p2p } = listsOf(categories);
  const lists = { fail_to_pass: f2p, pass_to_pass: p2p, flaky, suspicious, categories };

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
  const moved = categories.from_base.length
    ? ` (${categories.from_base.length} of them passed at the base commit; the test patch broke their build)`
    : "";
  return {
    ...lists,
    verdict: "ok",
    detail: `${f2p.length} fail-to-pass, ${p2p.length} pass-to-pass${moved}, ${flaky.length} flaky`,
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
  instance: {
    FAIL_TO_PASS: string[];
    PASS_TO_PASS: string[];
    validation?: { load_flaky?: readonly string[] };
  },
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
  const excused = loadFlakyExit(instance.validation?.load_flaky, run);
  if (timed_out) reasons.push("timed out");
  if (run.exit_code !== 0 && !excused) reasons.push(`exit ${run.exit_code}`);
  if (!run.parsed) reasons.push("output not parsed");
  if (failures > 0) reasons.push(`${failures} expected test(s) not passing (${missing.length} missing)`);
  const resolved = reasons.length === 0;
  const note = excused ? ` (exit ${run.exit_code} from load-flaky tests only: ${excused})` : "";
  return {
    resolved,
    exit_code: run.exit_code,
    timed_out,
    parsed: run.parsed,
    tests_status,
    missing,
    detail: resolved ? `resolved${note}` : reasons.join("; "),
  };
}

/**
 * A non-zero exit explained by load-flaky tests alone (they failed only under the load probe's CPU quota and
 * are in neither list): every failing test of the run is one of them. Returns their names, else undefined.
 */
function loadFlakyExit(
  loadFlaky: readonly string[] | undefined,
  run: { exit_code: number; timed_out?: boolean; tests: TestResult[] },
): string | undefined {
  if (!loadFlaky?.length || run.exit_code === 0 || run.timed_out) return undefined;
  const failing = run.tests.filter((t) => t.status === "FAILED" || t.status === "ERROR").map((t) => t.name);
  const known = new Set(loadFlaky);
  return failing.length && failing.every((n) => known.has(n)) ? failing.join(", ") : undefined;
}
