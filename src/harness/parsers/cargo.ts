import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, lines } from "./common.ts";

const RUNNING = /^\s*Running (?:(?:unittests|tests|benches|examples) )?(\S+)(?: \((\S+)\))?/;
const DOCTESTS = /^\s*Doc-tests (\S+)/;
const TEST_LINE = /^test (.+?) \.\.\. ?(.*)$/;
const STATUS = /^(ok|FAILED|ignored)\b/;

function status(word: string): TestStatus {
  return word === "ok" ? "PASSED" : word === "ignored" ? "SKIPPED" : "FAILED";
}

/** Doc tests are named "doctest:<file> - <item>"; the "(line N)" moves with every edit, so it is dropped. */
export function doctestName(raw: string): string {
  const n = raw
    .replace(/ \(line \d+\)/, "")
    .replace(/ - (?:compile fail|should panic)(?: \(.*\))?$/, "")
    .trim();
  return `doctest:${n}`;
}

/**
 * `cargo test` (several test binaries and the doc tests). Names are the test paths ("tests::nested::deep");
 * " - should panic" is dropped. A binary that started tests but never printed its "test result:" line
 * crashed: it becomes "binary:<target>" ERROR. A compile error becomes "build:<crate>" ERROR.
 */
export function parseCargo(log: string): TestResult[] {
  const out = collector();
  let target: string | undefined;
  let doc = false;
  let open = false; // "running N>0 tests" seen, "test result:" not yet
  let pending: string | undefined;
  const close = () => {
    if (open && target) out.add(`binary:${target}`, "ERROR");
    open = false;
    pending = undefined;
  };
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const run = RUNNING.exec(line);
    const dt = run ? null : DOCTESTS.exec(line);
    if (run || dt) {
      close();
      target = run ? run[1]!.replace(/-[0-9a-f]{16}$/, "") : `doctest:${dt![1]}`;
      doc = !!dt;
      continue;
    }
    const n = /^running (\d+) tests?$/.exec(line);
    if (n) {
      open = Number(n[1]) > 0;
      continue;
    }
    if (/^test result: /.test(line)) {
      open = false;
      pending = undefined;
      continue;
    }
    const compile = /^error: could not compile `([^`]+)`/.exec(line);
    if (compile) {
      out.add(`build:${compile[1]}`, "ERROR");
      continue;
    }
    const t = TEST_LINE.exec(line);
    if (t) {
      const name = doc ? doctestName(t[1]!) : t[1]!.replace(/ - should panic(?: \(.*\))?$/, "");
      const st = STATUS.exec(t[2]!.trim());
      if (st) out.add(name, status(st[1]!));
      else pending = name; // --nocapture: the status comes after the test's own output
      continue;
    }
    const late = STATUS.exec(line.trim());
    if (pending && late && line.trim() === late[0]) {
      out.add(pending, status(late[1]!));
      pending = undefined;
    }
  }
  close();
  return out.results();
}
