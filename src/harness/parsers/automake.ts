import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, lines } from "./common.ts";

const RESULT = /^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR): (.+)$/;
/** A TAP test point as automake's tap-driver reports it: "basic.t 2 - adds large numbers # SKIP why". */
const TAP_POINT = /^(\S+) (\d+)(?: - (.*?))?(?: # (?:SKIP|TODO)\b.*)?$/i;

/**
 * Expected failures (XFAIL, a TAP `# TODO` that failed) prove nothing about the code: they count as SKIPPED,
 * so they are never FAIL_TO_PASS nor PASS_TO_PASS. An unexpected pass (XPASS) fails `make check`, and so
 * does a hard error (exit status 99, ERROR).
 */
const STATUS: Record<string, TestStatus> = {
  PASS: "PASSED",
  FAIL: "FAILED",
  SKIP: "SKIPPED",
  XFAIL: "SKIPPED",
  XPASS: "FAILED",
  ERROR: "ERROR",
};

/**
 * Automake's test harness (`make check`): one "PASS: name" line per test on the terminal. The parallel
 * harness (automake's default) sends what the tests print to their own .log files, so a test's output
 * cannot forge a result; the older `serial-tests` harness prints it inline, where only names with a space
 * are told apart.
 * Names are the test's path as the harness prints it, relative to the Makefile that lists it
 * ("test_clamp", "tests/run.sh"). TAP tests under tap-driver.sh report each test point:
 * "basic.t 2 - adds large numbers" becomes "basic.t › adds large numbers" (the number moves when a test is
 * inserted); a point without a description keeps its number ("basic.t 5"). Any other name with a space is
 * not the harness's (Python's unittest prints "ERROR: test_x (mod.Class)") and is left out. A test program that crashes is
 * reported FAIL by the harness; one that does not build stops `make check` before any line is printed, so
 * its tests are missing (failing), never passing.
 */
export function parseAutomake(log: string): TestResult[] {
  const out = collector();
  for (const raw of lines(log)) {
    const m = RESULT.exec(raw.trimEnd());
    if (!m) continue;
    const tap = TAP_POINT.exec(m[2]!);
    // A test is a path; "ERROR: test_x (mod.Class)" is Python's unittest, not the harness.
    if (!tap && /\s/.test(m[2]!.trim())) continue;
    const name = tap ? (tap[3] ? `${tap[1]} › ${tap[3].trim()}` : `${tap[1]} ${tap[2]}`) : m[2]!.trim();
    out.add(name, STATUS[m[1]!]!);
  }
  return out.results();
}
