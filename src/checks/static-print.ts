/**
 * A verifier that prints test results itself: a line one of our log parsers reads as a passing test
 * (`PASSED tests/x.py::test_y`, `--- PASS: TestY`, `ok 1 - y`), or SWE-bench's recorded exit code written as
 * a literal. SWE-bench's own `>>>>> Start Test Output` markers are how others frame a log, not results.
 */
import { getParser, parserNames } from "../harness/parsers/index.ts";
import { type ShellLine, words } from "./shell.ts";
import { at, eachCommand, type StaticRule } from "./static-rule.ts";

/** The text an echo/printf prints, when it is fixed (variables removed). */
function printed(cmd: string): string | undefined {
  const ws = words(cmd);
  if (!/^(?:echo|printf)$/.test(ws[0] ?? "")) return undefined;
  return ws
    .slice(1)
    .filter((w) => !/^-[neE]+$/.test(w))
    .join(" ")
    .replace(/\\n/g, "\n")
    .replace(/\$\{?\w+\}?/g, "")
    .trim();
}

/** The parser that reads `text` as (at least) one passing test, if any. */
export function readAsPass(text: string): { parser: string; test: string } | undefined {
  for (const name of parserNames()) {
    if (/junit|maven|trx|catch2|go-test-json/.test(name)) continue; // XML and JSON are not echoed by hand
    const pass = getParser(name)(text).find((t) => t.status === "PASSED");
    if (pass) return { parser: name, test: pass.name };
  }
  return undefined;
}

const EXIT_CODE_LINE = />>>>> Test Exit Code:\s*0\b/;

export const printsResults: StaticRule = {
  id: "prints-results",
  description:
    "prints test results itself: lines a log parser reads as passing tests, or a literal exit code",
  test: (lines: ShellLine[]) => {
    const out = eachCommand(lines, (cmd) => {
      const text = printed(cmd);
      if (!text) return undefined;
      if (EXIT_CODE_LINE.test(text))
        return `prints ${JSON.stringify(text.slice(0, 60))}: a test exit code it did not get`;
      const r = readAsPass(text);
      return r
        ? `prints ${JSON.stringify(text.slice(0, 60))} itself, which the ${r.parser} parser reads as a passing test (${r.test})`
        : undefined;
    });
    for (const l of lines) {
      if (!l.heredoc || !/^cat\b(?!.*>)/.test(l.opener ?? "")) continue;
      const r = readAsPass(l.text);
      if (r)
        out.push(
          at(l, `prints ${JSON.stringify(l.text.slice(0, 60))} itself (read by ${r.parser} as a pass)`),
        );
    }
    return out;
  },
};
