import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, lines } from "./common.ts";

// ---------------------------------------------------------------- pytest

/** pytest outcome words; xfail counts as passing and xpass (non-strict) too, as in SWE-bench's grading. */
const PYTEST_STATUS: Record<string, TestStatus> = {
  PASSED: "PASSED",
  FAILED: "FAILED",
  ERROR: "ERROR",
  SKIPPED: "SKIPPED",
  XFAIL: "PASSED",
  XPASS: "PASSED",
};
const WORDS = "PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS";
const SHORT = new RegExp(`^(?:\\[gw\\d+\\]\\s+\\[\\s*\\d+%\\]\\s+)?(${WORDS})\\s+(.+)$`);
const VERBOSE = new RegExp(`^(\\S+?::\\S.*?) (${WORDS})(?: \\(.*\\))?\\s*(?:\\[\\s*\\d+%\\])?\\s*$`);

/**
 * The node id at the start of a short-summary line "nodeid - message". Parametrised ids carry brackets
 * and may hold spaces or " - ", so the id ends at a "]" followed by the end or by " - ", with balanced
 * brackets preferred.
 */
export function pytestNodeId(rest: string): string {
  const head = /^[^\s[]+/.exec(rest)?.[0] ?? "";
  if (rest[head.length] !== "[") return head;
  const ends: number[] = [];
  for (let i = head.length; i < rest.length; i++) {
    if (rest[i] === "]" && (i === rest.length - 1 || rest.startsWith(" - ", i + 1))) ends.push(i);
  }
  const balanced = ends.find((i) => {
    let depth = 0;
    for (const ch of rest.slice(head.length, i + 1)) depth += ch === "[" ? 1 : ch === "]" ? -1 : 0;
    return depth === 0;
  });
  const end = balanced ?? ends[0];
  return end === undefined ? rest.split(" - ")[0]!.trim() : rest.slice(0, end + 1);
}

/** `pytest -rA` short summary lines and `pytest -v` per-test lines (both may be present). */
export function parsePytest(log: string): TestResult[] {
  const out = collector();
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const v = VERBOSE.exec(line);
    if (v) {
      out.add(v[1]!, PYTEST_STATUS[v[2]!]!);
      continue;
    }
    const s = SHORT.exec(line);
    if (!s) continue;
    const rest = s[2]!;
    if (/^[[(]/.test(rest)) continue; // "SKIPPED [1] file.py:10: reason", "FAILED (errors=1)" name no test
    out.add(pytestNodeId(rest), PYTEST_STATUS[s[1]!]!);
  }
  return out.results();
}

// ---------------------------------------------------------------- unittest

const UT_HEAD = /^\s*(\w+) \(([\w.]+)\)(?: \((.*?)\))?(?:\s*\.\.\.\s?(.*))?$/;
const UT_STATUS = /^(ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$/;
const UT_SECTION = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (\w+) \(([\w.]+)\)/;

function utStatus(word: string): TestStatus {
  if (word === "ok" || word === "expected failure") return "PASSED";
  if (word === "ERROR") return "ERROR";
  if (word.startsWith("skipped")) return "SKIPPED";
  return "FAILED";
}

/** "pkg.mod.Class.test_x" for both "test_x (pkg.mod.Class)" (≤3.10) and "(pkg.mod.Class.test_x)" (3.11+). */
function utName(method: string, ref: string): string {
  return ref === method || ref.endsWith(`.${method}`) ? ref : `${ref}.${method}`;
}

/**
 * `python -m unittest -v` (and Django's runner). Status may follow on a later line (docstrings, printed
 * output); a failing subtest fails its test; the FAIL:/ERROR: blocks confirm failures.
 */
export function parseUnittest(log: string): TestResult[] {
  const out = collector();
  let pending: string | undefined;
  const settle = (tail: string): boolean => {
    const t = tail.trim();
    if (!pending || !UT_STATUS.test(t)) return false;
    out.add(pending, utStatus(t));
    pending = undefined;
    return true;
  };
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const sec = UT_SECTION.exec(line);
    if (sec) {
      out.add(utName(sec[2]!, sec[3]!), sec[1] === "ERROR" ? "ERROR" : "FAILED");
      continue;
    }
    let text = line;
    // A head whose status is another head (3.10 subtests) is read head by head.
    for (let guard = 0; guard < 4; guard++) {
      const h = UT_HEAD.exec(text);
      if (!h) break;
      const name = utName(h[1]!, h[2]!);
      const isSubtest = h[3] !== undefined && /^\s/.test(text);
      if (isSubtest) {
        const st = (h[4] ?? "").trim();
        if (UT_STATUS.test(st) && st !== "ok") out.add(name, utStatus(st));
        text = "";
        break;
      }
      pending = name;
      text = h[4] ?? "";
      if (settle(text)) text = "";
    }
    if (!text || !pending) continue;
    if (settle(text)) continue;
    const tail = / \.\.\. (.*)$/.exec(text);
    if (tail) settle(tail[1]!);
  }
  return out.results();
}
