import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getParser } from "../../../src/harness/parsers/index.ts";
import type { TestStatus } from "../../../src/records/index.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/runner-output");

const parse = (parser: string, file: string) =>
  Object.fromEntries(
    getParser(parser)(readFileSync(join(FIXTURES, file), "utf8")).map((r) => [r.name, r.status]),
  ) as Record<string, TestStatus>;

// Real output of the commands the node recipe runs (README.md beside the fixtures says how each was made);
// each suite holds a passing, a failing and a skipped test.
describe("JS runner fixtures", () => {
  it("ava 8 --tap: flat 'file › title' points, SKIP and TODO directives, an unescaped '#' kept in the title", () => {
    expect(parse("tap", "ava/v8-tap.log")).toEqual({
      "other › other passes": "PASSED",
      "other › other throws": "FAILED",
      "calc › skipped one": "SKIPPED",
      "calc › write more": "SKIPPED",
      "calc › adds": "PASSED",
      "calc › adds wrong": "FAILED",
      // ava writes "# hash" unescaped: only SKIP/TODO/time= open a directive
      "calc › title with # hash": "PASSED",
    });
  });

  // node-tap reports every assertion as a test point inside its test's subtest, and each file as a subtest
  // of the run: the parser keeps them all, nested by " › ". A failing assertion fails its test and its file.
  const nodeTap = (assertion: string): Record<string, TestStatus> => ({
    "test/calc.test.js › adds › should be equal": "PASSED",
    "test/calc.test.js › adds": "PASSED",
    "test/calc.test.js › adds wrong › should be equal": "FAILED",
    "test/calc.test.js › adds wrong": "FAILED",
    "test/calc.test.js › skipped one": "SKIPPED",
    "test/calc.test.js › write more": "SKIPPED",
    [`test/calc.test.js › group › nested ok › ${assertion}`]: "PASSED",
    "test/calc.test.js › group › nested ok": "PASSED",
    "test/calc.test.js › group › nested fails › should be equivalent": "FAILED",
    "test/calc.test.js › group › nested fails": "FAILED",
    "test/calc.test.js › group": "FAILED",
    "test/calc.test.js": "FAILED",
    "test/other.test.js › other passes › should be equivalent": "PASSED",
    "test/other.test.js › other passes": "PASSED",
    "test/other.test.js": "PASSED",
  });

  it("node-tap 21 (TAP 14): '# time=' is a directive, not part of a name", () => {
    const r = parse("tap", "tap/node-tap21.log");
    expect(r).toEqual(nodeTap("should be equal"));
    expect(Object.keys(r).some((n) => n.includes("#"))).toBe(false);
  });

  it("node-tap 16 (TAP 13): the same suite, the same names", () => {
    expect(parse("tap", "tap/node-tap16.log")).toEqual(nodeTap("expect truthy value"));
  });

  it("jest 30 --verbose: describe tree, skip and todo, a suite that fails to load", () => {
    expect(parse("jest", "jest/v30-verbose.log")).toEqual({
      "top level": "PASSED",
      "calc › adds": "PASSED",
      "calc › adds wrong": "FAILED",
      "calc › skipped one": "SKIPPED",
      "calc › write more": "SKIPPED",
      "calc › nested group › deep ok": "PASSED",
      "test/broken.test.js": "ERROR",
    });
  });

  it("mocha 12 spec reporter: pending tests and a failing before-all hook", () => {
    expect(parse("mocha", "mocha/v12-spec.log")).toEqual({
      "calc › adds": "PASSED",
      "calc › adds wrong": "FAILED",
      "calc › skipped one": "SKIPPED",
      "calc › pending without body": "SKIPPED",
      "calc › nested group › deep ok": "PASSED",
      'hooks › "before all" hook for "never runs"': "ERROR",
    });
  });
});
