import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getParser } from "../../../src/harness/parsers/index.ts";

const FIX = join(import.meta.dirname, "../../fixtures/runner-output/node-spec");

/** node:test's spec reporter, as Node 20 and Node 24 print it for one file with suites, a skip and failures. */
describe("node-spec parser", () => {
  for (const file of ["node20-spec.log", "node24-spec.log"])
    it(`reads ${file}: suites as prefixes, their own lines not tests, the repeated failures once`, () => {
      const tests = getParser("node-spec")(readFileSync(join(FIX, file), "utf8"));
      expect(tests).toEqual([
        { name: "top passes", status: "PASSED" },
        { name: "top fails", status: "FAILED" },
        { name: "suite › inner passes", status: "PASSED" },
        { name: "suite › inner fails", status: "FAILED" },
        { name: "suite › inner skipped", status: "SKIPPED" },
        { name: "suite › deeper › deep passes", status: "PASSED" },
      ]);
    });
});
