import type { TestResult } from "../records/index.ts";
import { parseJunit } from "./junit.ts";
import { extractSections } from "./output.ts";
import { getParser } from "./parsers/index.ts";
import type { OutputParser } from "./run-state.ts";

/**
 * Read one evaluation.sh run: JUnit sections when the runner wrote them (exact), else the named log parser
 * over the text between the markers. Output without markers is unparsed, never a pass.
 */
export function parserFor(name: string): OutputParser {
  const parser = getParser(name);
  return (output, nonce) => {
    const sections = extractSections(output, nonce);
    if (sections.testOutput === undefined) return { tests: [], parsed: false };
    let tests: TestResult[] = [];
    if (sections.junit.length) tests = sections.junit.flatMap((x) => parseJunit(x));
    if (!tests.length) tests = parser(sections.testOutput);
    return { tests, parsed: tests.length > 0 };
  };
}
