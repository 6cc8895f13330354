import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, indentOf, lines } from "./common.ts";

const MARKS: Record<string, TestStatus> = { "✔": "PASSED", "✖": "FAILED", "﹣": "SKIPPED" };
const LINE = /^(✔|✖|﹣)\s+(.+?)(?:\s+\(\d+(?:\.\d+)?m?s\))?(?:\s+#\s*(?:SKIP|TODO)\b.*)?$/;

/**
 * node:test's spec reporter (the default on a terminal, and what `--test-reporter=spec` prints):
 * `✔ name (1.2ms)`, `✖ name (…)`, `﹣ name # SKIP`; `▶ suite` opens a suite whose children are indented by
 * two and whose own closing line is not a test. Names are "suite › test". The failures repeated after
 * "✖ failing tests:" are skipped.
 */
export function parseNodeSpec(log: string): TestResult[] {
  const out = collector();
  const suites: { indent: number; name: string }[] = [];
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const text = line.trim();
    if (text === "✖ failing tests:") break;
    if (!text) continue;
    const indent = indentOf(line);
    while (
      suites.length &&
      suites.at(-1)!.indent >= indent &&
      !(suites.at(-1)!.indent === indent && LINE.test(text))
    )
      suites.pop();
    const suite = /^▶\s+(.+)$/.exec(text);
    if (suite) {
      suites.push({ indent, name: suite[1]!.trim() });
      continue;
    }
    const m = LINE.exec(text);
    if (!m) continue;
    const open = suites.at(-1);
    if (open && open.indent === indent && open.name === m[2]) {
      suites.pop(); // the suite's own closing line
      continue;
    }
    out.add([...suites.map((s) => s.name), m[2]!].join(" › "), MARKS[m[1]!]!);
  }
  return out.results();
}
