import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, lines } from "./common.ts";

// ---------------------------------------------------------------- GoogleTest

const GTEST = /^\[\s*(RUN|OK|FAILED|SKIPPED|DISABLED)\s*\] (.+)$/;

/**
 * GoogleTest console output: "[ RUN      ] Suite.Test", "[       OK ] Suite.Test (0 ms)", "[  FAILED  ]",
 * "[  SKIPPED ]", "[ DISABLED ]". Names keep gtest's form ("Inst/Suite.Test/2"); the ", where GetParam() =
 * …" and timing tails are dropped. A test that started and never finished (a crash) is an ERROR.
 */
export function parseGtest(log: string): TestResult[] {
  const out = collector();
  const running = new Set<string>();
  for (const raw of lines(log)) {
    const m = GTEST.exec(raw.trim());
    if (!m) continue;
    const name = m[2]!
      .replace(/\s+\(\d+ ms\)$/, "")
      .replace(/, where (?:TypeParam|GetParam\(\)) = .*$/, "")
      .trim();
    if (/^\d+ tests?\b/.test(name) || /\s/.test(name)) continue; // summary lines
    const word = m[1]!;
    if (word === "RUN") {
      running.add(name);
      continue;
    }
    running.delete(name);
    const st: TestStatus = word === "OK" ? "PASSED" : word === "FAILED" ? "FAILED" : "SKIPPED";
    out.add(name, st);
  }
  for (const name of running) out.add(name, "ERROR");
  return out.results();
}

// ---------------------------------------------------------------- CTest

const CTEST = /^\s*\d+\/\d+\s+Test\s+#\d+:\s+(.+?)\s+\.{2,}\s*(.*?)\s*(?:[\d.]+\s+sec)?$/;

function ctestStatus(text: string): TestStatus {
  if (/^Passed\b/.test(text)) return "PASSED";
  if (/Not Run \(Disabled\)|\*\*\*Skipped/.test(text)) return "SKIPPED";
  if (/\*\*\*Failed/.test(text)) return "FAILED";
  return "ERROR"; // ***Timeout, ***Exception (SEGFAULT, Subprocess aborted), ***Not Run (missing program)
}

/** `ctest` progress lines: " 2/14 Test  #2: name ....***Failed    0.00 sec". */
export function parseCtest(log: string): TestResult[] {
  const out = collector();
  for (const raw of lines(log)) {
    const m = CTEST.exec(raw.trimEnd());
    if (m) out.add(m[1]!, ctestStatus(m[2]!));
  }
  return out.results();
}
