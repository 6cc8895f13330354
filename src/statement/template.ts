/**
 * A problem statement written without a model, from what validation saw: the assertion messages and errors
 * the tests printed in the buggy state, phrased as an issue would be. Paths, line numbers and the names of
 * the tests are taken out, and a message that still gives the fix away (rules.ts) is left out.
 */

import { type FixFacts, gateVerdict, leakFindings, RELEASE_TITLE } from "../checks/statement.ts";
import { MARK_PREFIX } from "../harness/output.ts";
import type { StateRun } from "../records/index.ts";

/** Lines that carry what a failing test found, from any runner's output (a table of shapes). */
const MESSAGE_SHAPES: RegExp[] = [
  /^E\s{2,}(.+)$/, // pytest's failure lines
  /^\s*\S+?\.\w+:\d+(?::\d+)?: (.+)$/, // Go's t.Errorf lines and compile errors, file:line: messages of others
  /^\s*((?:Expected|Received|Actual|expected|received|actual)(?: value)?:\s*.+)$/, // jest, vitest, JUnit
  /panicked at [^:]*(?::\d+:\d+)?:?\s*(.+)$/, // Rust
  /^\s*((?:left|right): .+)$/, // Rust assert_eq!
  /^\s*(assertion .+ failed.*)$/i,
  /^\s*((?:Value of|Expected equality of these values|Which is|Actual|Expected): .*)$/, // GoogleTest
  /((?:\w+Error|\w+Exception|undefined|cannot find|not defined|has no attribute|is not a function|is not defined|no member named|was not declared|unresolved import|cannot import name)\b.*)$/,
];

/** A runner's line for a test that passed or was skipped (unittest's verbose `... ok`). */
const PASSED_LINE = /\.\.\. (?:ok|skipped\b.*|expected failure)$/;

/** go test -json lines turned back into the plain text they carry. */
function plain(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split("\n")) {
    if (line.includes(MARK_PREFIX)) continue;
    if (line.startsWith("{") && line.includes('"Action"')) {
      try {
        const ev = JSON.parse(line) as { Output?: string };
        if (ev.Output) out.push(...ev.Output.replace(/\n$/, "").split("\n"));
      } catch {
        out.push(line);
      }
      continue;
    }
    out.push(line);
  }
  return out;
}

/** A message without locations: file paths, line numbers, long hex, trailing noise. */
function clean(msg: string): string {
  return msg
    .replace(
      /(?:\/?[\w.@-]+\/)*[\w.@-]+\.(?:py|go|rs|js|jsx|ts|tsx|mjs|cjs|java|kt|c|cc|cpp|h|hpp|cs|rb|php)(?::\d+)+:?/g,
      "",
    )
    .replace(/\b0x[0-9a-f]{6,}\b/gi, "0x…")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}

/** The distinct messages the failing tests printed in the buggy runs, at most `max`, none that leaks. */
export function failureMessages(runs: readonly StateRun[], facts: FixFacts, max = 6): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  const tests = facts.tests;
  for (const run of runs.filter((r) => r.state === "buggy")) {
    for (const line of plain(run.log_tail)) {
      // unittest's line for a test that passed ("Make sure … a ValueError ... ok") says nothing that failed.
      if (PASSED_LINE.test(line)) continue;
      const m = MESSAGE_SHAPES.map((re) => re.exec(line)).find((x) => x);
      if (!m) continue;
      let msg = clean(m[1]!);
      const unnamed = tests.reduce((x, t) => x.replaceAll(t, "the test"), msg);
      // A name that is a test's and the API's at once (a doctest of `running_max`) stays where it is quoted.
      if (!/(['"`])the test\1/.test(unnamed)) msg = unnamed;
      // pytest's "file:line: in test_x" location lines say where, not what.
      if (msg.length < 6 || seen.has(msg) || /^(?:FAIL|ok|PASS|---)\b|^in (?:the test|\S+)$/.test(msg))
        continue;
      seen.add(msg);
      if (leakFindings(msg, facts).length) continue;
      out.push(msg);
      if (out.length >= max) return out;
    }
  }
  return out;
}

/** Errors that say something the tests use does not exist yet: the task is to add it. */
const MISSING_API =
  /\b(?:undefined: |has no attribute|cannot import name|is not a function|is not defined|not defined|no member named|was not declared|unresolved import|cannot find (?:function|value|symbol))/;

/**
 * The templated statement, or undefined when the buggy runs printed no message that can be used. `title` is
 * the mined statement's first line, used when it gives nothing away.
 */
export function templatedStatement(
  x: { repo: string; runs: readonly StateRun[]; title?: string },
  facts: FixFacts,
): string | undefined {
  const messages = failureMessages(x.runs, facts);
  if (!messages.length) return undefined;
  const missing = messages.some((m) => MISSING_API.test(m));
  const name = x.repo.split("/").pop()!;
  const title = x.title?.trim();
  const usable =
    title && !RELEASE_TITLE.test(title) && !leakFindings(title, facts).length && title.length <= 120
      ? title
      : undefined;
  const heading = missing
    ? `${name}: functionality the tests expect is missing`
    : `${name}: behaviour does not match what is expected`;
  const body = [
    `# ${usable ?? heading}`,
    "",
    missing
      ? `Code that uses ${name} as described below does not work yet: what it calls is not there, or does not behave as expected.`
      : `${name} does not behave as expected. Checking the behaviour gives:`,
    "",
    ...messages.map((m) => `- ${m}`),
    "",
    usable ? `What was asked for: ${usable}` : "",
    "Expected: these checks hold, and the behaviour that works today keeps working.",
  ].filter((l, i, all) => l !== "" || all[i - 1] !== "");
  const text = `${body.join("\n").trim()}\n`;
  return gateVerdict(text) === "ok" ? text : undefined;
}
