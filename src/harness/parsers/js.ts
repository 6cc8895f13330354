import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, indentOf, indentTree, lines, stripDuration } from "./common.ts";

// ---------------------------------------------------------------- jest

const JEST_ICON: Record<string, TestStatus> = {
  "✓": "PASSED",
  "✔": "PASSED",
  "√": "PASSED",
  "✕": "FAILED",
  "✖": "FAILED",
  "×": "FAILED",
  "○": "SKIPPED",
  "✎": "SKIPPED",
};
const JEST_TEST = /^(\s+)([✓✔√✕✖×○✎])\s+(.*)$/;
const JEST_HEADER = /^(PASS|FAIL)\s+(\S.*?)(?:\s+\(\d+(?:\.\d+)?\s*m?s\))?$/;

/**
 * `jest --verbose`: per file a PASS/FAIL header, then the describe tree by indentation; names are
 * "describe › nested › test". "● a › b" failure headings (all jest prints without --verbose) count as
 * failures; "● Test suite failed to run" makes the file an ERROR.
 */
export function parseJest(log: string): TestResult[] {
  const out = collector();
  const tree = indentTree(2, " › ");
  let file: string | undefined;
  let inTree = false;
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const header = JEST_HEADER.exec(line);
    if (header) {
      file = header[2]!;
      inTree = true;
      tree.reset();
      continue;
    }
    const bullet = /^\s+● (.+)$/.exec(line);
    if (bullet) {
      inTree = false;
      const title = bullet[1]!.trim();
      if (title === "Test suite failed to run") {
        if (file) out.add(file, "ERROR");
      } else if (title.includes(" › ") || file) {
        if (!/^Console$/.test(title)) out.add(title, "FAILED");
      }
      continue;
    }
    if (/^Test Suites:/.test(line)) {
      inTree = false;
      file = undefined;
      continue;
    }
    if (!inTree || !line.trim()) continue;
    const t = JEST_TEST.exec(line);
    const indent = indentOf(line);
    if (t) {
      let title = stripDuration(t[3]!);
      const status = JEST_ICON[t[2]!]!;
      if (t[2] === "○") title = title.replace(/^skipped /, "");
      if (t[2] === "✎") title = title.replace(/^todo /, "");
      out.add(tree.name(indent, title), status);
    } else if (indent >= 2) {
      tree.group(indent, line.trim());
    }
  }
  return out.results();
}

// ---------------------------------------------------------------- vitest

const VITEST_ICON: Record<string, TestStatus> = {
  "✓": "PASSED",
  "√": "PASSED",
  "×": "FAILED",
  "✗": "FAILED",
  "↓": "SKIPPED",
  "□": "SKIPPED",
};
const VITEST_TEST = /^\s*([✓√×✗↓□])\s+(.+? > .+)$/;
const VITEST_FAIL = /^\s*FAIL\s+(.+?)(?:\s+\[ (.+) \])?$/;

function vitestName(title: string): string {
  return stripDuration(
    title
      .replace(/\s+\[(?:skipped|todo)\]\s*$/, "")
      .replace(/\s+\(retry x\d+\)\s*$/, "")
      .replace(/\s+\(repeat x\d+\)\s*$/, ""),
  );
}

/** `vitest run --reporter=verbose`: "✓ file > describe > test 3ms"; names keep the file and the " > ". */
export function parseVitest(log: string): TestResult[] {
  const out = collector();
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const t = VITEST_TEST.exec(line);
    if (t) {
      out.add(vitestName(t[2]!), VITEST_ICON[t[1]!]!);
      continue;
    }
    const f = VITEST_FAIL.exec(line);
    if (!f) continue;
    if (f[2] !== undefined)
      out.add(f[1]!, "ERROR"); // " FAIL  file.test.ts [ file.test.ts ]": suite failed
    else if (f[1]!.includes(" > ")) out.add(vitestName(f[1]!), "FAILED");
  }
  return out.results();
}

// ---------------------------------------------------------------- mocha

const MOCHA_PASS = /^(\s+)[✔✓√]\s+(.*)$/;
const MOCHA_FAIL = /^(\s+)\d+\) (.*)$/;
const MOCHA_PENDING = /^(\s+)- (.*)$/;

/**
 * mocha's spec reporter: suites by indentation, "✔ title", "N) title" (failed), "- title" (pending);
 * names are "suite › nested › test". A failing hook ('"before all" hook for "x"') is an ERROR.
 * Reading stops at the "N passing" summary, before the failure details.
 */
export function parseMocha(log: string): TestResult[] {
  const out = collector();
  const tree = indentTree(2, " › ");
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    if (/^\s+\d+ passing\b/.test(line)) break;
    if (!line.trim() || indentOf(line) < 2) continue;
    const pass = MOCHA_PASS.exec(line);
    const fail = pass ? null : MOCHA_FAIL.exec(line);
    const pend = pass || fail ? null : MOCHA_PENDING.exec(line);
    const m = pass ?? fail ?? pend;
    if (!m) {
      tree.group(indentOf(line), line.trim());
      continue;
    }
    const title = pass ? stripDuration(m[2]!) : m[2]!.trim();
    const status: TestStatus = pass
      ? "PASSED"
      : pend
        ? "SKIPPED"
        : /^"(?:before|after) (?:all|each)" hook/.test(title)
          ? "ERROR"
          : "FAILED";
    out.add(tree.name(m[1]!.length, title), status);
  }
  return out.results();
}
