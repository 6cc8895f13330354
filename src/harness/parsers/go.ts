import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, lines } from "./common.ts";

interface GoEvent {
  Action?: string;
  Package?: string;
  Test?: string;
  ImportPath?: string;
  FailedBuild?: string;
  Output?: string;
}

const TERMINAL: Record<string, TestStatus> = { pass: "PASSED", fail: "FAILED", skip: "SKIPPED" };
const BUILD_FAILED = /^FAIL\s+(\S+)\s+\[(?:build failed|setup failed)\]/;

/** Package-level failures are reported as one ERROR entry so a broken build is visible, not silent. */
export function goPackageName(pkg: string): string {
  return `package:${pkg}`;
}

/**
 * `go test -json`: one JSON event per line (non-JSON lines tolerated). Test names are Go's own
 * ("TestX/sub_case"); events of parallel tests interleave, so state is kept per package and test.
 * A test that started but never finished in a failed package (panic, timeout) is an ERROR; a package that
 * failed without a failing test (build or setup failure, TestMain exit) is an ERROR named "package:<path>".
 */
export function parseGoTestJson(log: string): TestResult[] {
  const out = collector();
  const started = new Map<string, string>(); // key -> test name, for tests without a terminal event
  const failedPkgs = new Set<string>();
  const pkgsWithFailedTest = new Set<string>();
  const order: string[] = [];
  for (const raw of lines(log)) {
    const line = raw.trim();
    if (!line.startsWith("{")) continue; // compiler errors on stderr, other output
    let ev: GoEvent;
    try {
      ev = JSON.parse(line) as GoEvent;
    } catch {
      continue;
    }
    const pkg = ev.Package ?? ev.ImportPath ?? "";
    if (ev.Action === "output" && ev.Output) {
      const b = BUILD_FAILED.exec(ev.Output.trim());
      if (b) failedPkgs.add(b[1]!);
    }
    if (ev.Action === "build-fail" && ev.ImportPath) {
      failedPkgs.add(ev.ImportPath.replace(/\s+\[.*\]$/, ""));
      continue;
    }
    if (!ev.Test) {
      if (ev.Action === "fail") failedPkgs.add(pkg);
      continue;
    }
    const key = `${pkg}\u0000${ev.Test}`;
    if (ev.Action === "run") {
      started.set(key, ev.Test);
      order.push(key);
      continue;
    }
    const st = TERMINAL[ev.Action ?? ""];
    if (!st) continue;
    started.delete(key);
    if (st === "FAILED") pkgsWithFailedTest.add(pkg);
    out.add(ev.Test, st);
  }
  for (const key of order) {
    const name = started.get(key);
    const pkg = key.split("\u0000")[0]!;
    if (name !== undefined && failedPkgs.has(pkg)) {
      out.add(name, "ERROR");
      pkgsWithFailedTest.add(pkg);
    }
  }
  for (const pkg of failedPkgs) if (!pkgsWithFailedTest.has(pkg)) out.add(goPackageName(pkg), "ERROR");
  return out.results();
}

const GO_RESULT = /^\s*--- (PASS|FAIL|SKIP): (\S+)(?: \([\d.]+s\))?/;
const GO_PKG_LINE = /^(ok|FAIL)\s+(\S+)\s+(?:[\d.]+s|\(cached\)|\[.*\])/;

/**
 * Plain `go test -v`: "--- PASS: TestX/sub (0.00s)" lines; "FAIL <pkg> [build failed]" and a failed
 * package with no failing test become "package:<path>" ERRORs, as in the JSON parser.
 */
export function parseGoTest(log: string): TestResult[] {
  const out = collector();
  let failedSincePkg = false;
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const r = GO_RESULT.exec(line);
    if (r) {
      const st = TERMINAL[r[1]!.toLowerCase()]!;
      if (st === "FAILED") failedSincePkg = true;
      out.add(r[2]!, st);
      continue;
    }
    const b = BUILD_FAILED.exec(line);
    if (b) {
      out.add(goPackageName(b[1]!), "ERROR");
      failedSincePkg = false;
      continue;
    }
    const p = GO_PKG_LINE.exec(line);
    if (p) {
      if (p[1] === "FAIL" && !failedSincePkg) out.add(goPackageName(p[2]!), "ERROR");
      failedSincePkg = false;
    }
  }
  return out.results();
}
