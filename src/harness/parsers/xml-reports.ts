import type { TestResult, TestStatus } from "../../records/index.ts";
import { junitNaming, parseJunit } from "../junit.ts";
import { collector, lines } from "./common.ts";
import { extractElements, findAll, parseXml } from "./xml.ts";

// ---------------------------------------------------------------- .NET TRX

const TRX_OUTCOME: Record<string, TestStatus> = {
  passed: "PASSED",
  failed: "FAILED",
  error: "ERROR",
  timeout: "ERROR",
  aborted: "ERROR",
  notexecuted: "SKIPPED",
  inconclusive: "SKIPPED",
  notrunnable: "SKIPPED",
  warning: "PASSED",
};

/**
 * Visual Studio TRX (`dotnet test --logger trx`): UnitTestResult outcomes joined to their TestDefinitions
 * by testId; names are "Namespace.Class.Method" (data rows keep their "(args)" as the runner prints them).
 * Data-driven results with InnerResults report each row.
 */
export function parseTrx(log: string): TestResult[] {
  const out = collector();
  for (const doc of extractElements(log, ["TestRun"])) {
    const nodes = parseXml(doc) ?? [];
    const classOf = new Map<string, string>();
    for (const ut of findAll(nodes, new Set(["UnitTest"]))) {
      const method = ut.children.find((c) => c.tag === "TestMethod");
      if (ut.attrs.id && method?.attrs.className) {
        classOf.set(ut.attrs.id, method.attrs.className.split(",")[0]!.trim());
      }
    }
    const results = findAll(nodes, new Set(["UnitTestResult"])).filter(
      (r) => !r.children.some((c) => c.tag === "InnerResults"),
    );
    for (const r of results) {
      const testName = r.attrs.testName ?? "";
      const cls = classOf.get(r.attrs.testId ?? "") ?? "";
      const name = !cls || testName.startsWith(`${cls}.`) ? testName : `${cls}.${testName}`;
      out.add(name, TRX_OUTCOME[(r.attrs.outcome ?? "").toLowerCase()] ?? "ERROR");
    }
  }
  return out.results();
}

// ---------------------------------------------------------------- Catch2

/**
 * Catch2: its JUnit reporter (`-r junit`, names "test case/section") or its XML reporter (`-r xml`,
 * test-case names, OverallResult success). The console reporter lists only failures, so it is not read.
 */
export function parseCatch2(log: string): TestResult[] {
  const xmlReporter = extractElements(log, ["Catch", "Catch2TestRun"]);
  if (xmlReporter.length === 0) return parseJunit(log, { naming: junitNaming.nameOnly });
  const out = collector();
  for (const doc of xmlReporter) {
    for (const tc of findAll(parseXml(doc) ?? [], new Set(["TestCase"]))) {
      const res = tc.children.find((c) => c.tag === "OverallResult");
      if (!res || !tc.attrs.name) continue;
      const skipped = Number(res.attrs.skips ?? "0") > 0;
      out.add(tc.attrs.name, skipped ? "SKIPPED" : res.attrs.success === "true" ? "PASSED" : "FAILED");
    }
  }
  return out.results();
}

// ---------------------------------------------------------------- Maven surefire console

const NEW_FAIL = /^\[(?:ERROR|INFO|WARNING)\]\s+(\S+?)\s+--\s+Time elapsed:.*<<<\s*(FAILURE|ERROR)!/;
const OLD_FAIL =
  /^(?:\[(?:ERROR|INFO)\]\s+)?([\w$]+(?:\(.*?\))?(?:\[\d+\])?)\((\S+)\)\s+Time elapsed:.*<<<\s*(FAILURE|ERROR)!/;
const CLASS_SUMMARY =
  /Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+), Time elapsed: .*?(?:--|-) in (\S+)/;

/**
 * Maven: the surefire/failsafe JUnit XML when the log carries it (preferred), else the console. The console
 * names only failing tests ("com.x.YTest.method" FAILED/ERROR) and gives one verdict per class
 * ("com.x.YTest"); passing methods are not listed there. A compilation error is "build:compile" ERROR.
 */
export function parseMaven(log: string): TestResult[] {
  if (/<testsuite[\s>]/.test(log)) {
    const fromXml = parseJunit(log);
    if (fromXml.length > 0) return fromXml;
  }
  const out = collector();
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const n = NEW_FAIL.exec(line);
    if (n) {
      out.add(n[1]!, n[2] === "ERROR" ? "ERROR" : "FAILED");
      continue;
    }
    const o = OLD_FAIL.exec(line);
    if (o) {
      out.add(`${o[2]}.${o[1]}`, o[3] === "ERROR" ? "ERROR" : "FAILED");
      continue;
    }
    const c = CLASS_SUMMARY.exec(line);
    if (c) {
      const [run, fail, err, skip] = [c[1], c[2], c[3], c[4]].map(Number) as [number, number, number, number];
      if (run === 0) continue;
      out.add(c[5]!, err > 0 ? "ERROR" : fail > 0 ? "FAILED" : run > skip ? "PASSED" : "SKIPPED");
      continue;
    }
    if (
      /\[ERROR\] COMPILATION ERROR|\[ERROR\] Failed to execute goal .*:(?:testCompile|compile) /.test(line)
    ) {
      out.add("build:compile", "ERROR");
    }
  }
  return out.results();
}
