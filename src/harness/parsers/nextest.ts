import type { TestResult, TestStatus } from "../../records/index.ts";
import { parseCargo } from "./cargo.ts";
import { collector, lines } from "./common.ts";

/**
 * A status line: the word right-aligned in 12 columns, the time, an optional "( 3/11)" counter (newer
 * releases), the binary id ("alpha", "beta::integ", "app::bin/app") and the test path.
 * "        PASS [   0.012s] ( 1/11) alpha tests::adds", "     SIGABRT [   0.015s] ( 7/11) beta::crash aborts".
 */
const STATUS_LINE = /^(\s*)([A-Z][A-Z0-9-]*) \[[^\]]*\] (?:\([^)]*\) )?(\S+) (\S.*)$/;
const WIDTH = 12;

/** Final statuses; anything else (SLOW, RETRY, TRY n, START, summary words) is not a result. */
function statusOf(word: string): TestStatus | undefined {
  if (word === "PASS" || word === "LEAK") return "PASSED"; // LEAK: passed, left a handle open
  if (word === "SKIP") return "SKIPPED";
  if (word === "FAIL" || word === "LEAK-FAIL") return "FAILED";
  if (/^SIG[A-Z0-9]+$|^ABORT$|^TIMEOUT$/.test(word)) return "ERROR";
  return undefined;
}

/**
 * `cargo nextest run` (human output, on stderr), followed where the plan runs them by `cargo test --doc`.
 *
 * Names are the test paths without the binary id ("tests::adds", "a::b::tests::test_x", "nested::deep"):
 * exactly the names `cargo test` prints for the same tests, so an instance keeps its FAIL_TO_PASS whichever
 * runner produced it. Like the cargo parser, two binaries holding the same path share one name (the worse
 * status wins). Ignored tests and tests a filter left out are SKIPPED. Doc tests come from the cargo output
 * after the first "Doc-tests" header, named "doctest:…" as the cargo parser names them.
 *
 * Crashes are never passes: a test killed by a signal (SIGSEGV, SIGABRT) or a timeout is an ERROR; a binary
 * that crashes while nextest lists its tests stops the run, and becomes "binary:<binary id>" ERROR; a
 * compile error becomes "build:<crate>" ERROR; a test that started and never reported is missing.
 * Only lines whose word ends at column 12 count: a test's captured output, which nextest prints indented
 * under "stdout ───", cannot forge a result.
 */
export function parseNextest(log: string): TestResult[] {
  const out = collector();
  const all = lines(log);
  const doc = all.findIndex((l) => /^\s*Doc-tests \S/.test(l));
  const runner = doc < 0 ? all : all.slice(0, doc);
  for (const raw of runner) {
    const line = raw.trimEnd();
    const m = STATUS_LINE.exec(line);
    if (m && m[1]!.length + m[2]!.length === WIDTH) {
      const status = statusOf(m[2]!);
      if (status) out.add(m[4]!.trim(), status);
      continue;
    }
    const compile = /^error: could not compile `([^`]+)`/.exec(line);
    if (compile) out.add(`build:${compile[1]}`, "ERROR");
    const listing = /^\s*for `([^`]+)`, command .* --list\b/.exec(line);
    if (listing) out.add(`binary:${listing[1]}`, "ERROR");
  }
  if (doc >= 0) for (const r of parseCargo(all.slice(doc).join("\n"))) out.add(r.name, r.status);
  return out.results();
}
