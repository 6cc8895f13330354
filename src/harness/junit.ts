import type { TestResult, TestStatus } from "../records/index.ts";
import { collector } from "./parsers/common.ts";
import { extractElements, parseXml, type XmlNode } from "./parsers/xml.ts";

/** What a JUnit testcase offers for its name. */
export interface JunitCase {
  classname: string;
  name: string;
  /** Names of the enclosing testsuite elements, outermost first. */
  suites: string[];
  file: string;
}

export interface JunitOptions {
  /** How a case is named; default "classname.name" (just "name" without a classname). */
  naming?: (c: JunitCase) => string;
}

export const junitNaming = {
  classDotName: (c: JunitCase) => (c.classname ? `${c.classname}.${c.name}` : c.name),
  nameOnly: (c: JunitCase) => c.name,
  suiteSlashName: (c: JunitCase) => [...c.suites.filter(Boolean), c.name].join(" / "),
} as const;

function caseStatus(tc: XmlNode): TestStatus {
  const kids = new Set(tc.children.map((c) => c.tag));
  // Skipped wins: runners mark tolerated failures so (Catch2's [!mayfail], pytest's xfail).
  if (kids.has("skipped")) return "SKIPPED";
  if (tc.attrs.status === "notrun" || tc.attrs.result === "suppressed" || tc.attrs.result === "skipped") {
    return "SKIPPED";
  }
  if (kids.has("error")) return "ERROR";
  if (kids.has("failure")) return "FAILED";
  return "PASSED"; // flakyFailure/rerunFailure alone: it passed on a rerun
}

function walkSuite(
  node: XmlNode,
  suites: string[],
  opts: Required<JunitOptions>,
  add: (r: TestResult) => void,
) {
  const path = node.tag === "testsuite" ? [...suites, node.attrs.name ?? ""] : suites;
  for (const child of node.children) {
    if (child.tag === "testcase") {
      const c: JunitCase = {
        classname: child.attrs.classname ?? "",
        name: child.attrs.name ?? "",
        suites: path,
        file: child.attrs.file ?? "",
      };
      add({ name: opts.naming(c), status: caseStatus(child) });
    } else if (child.tag === "testsuite" || child.tag === "testsuites") {
      walkSuite(child, path, opts, add);
    }
  }
}

/**
 * Reads JUnit XML (surefire, gtest, pytest, Catch2, jest-junit, …): testsuites/testsuite/testcase with
 * failure, error and skipped children. Several documents may be concatenated or sit among other output;
 * each <testsuites>/<testsuite> element is read on its own and a malformed one is skipped.
 */
export function parseJunit(text: string, options: JunitOptions = {}): TestResult[] {
  const opts: Required<JunitOptions> = { naming: options.naming ?? junitNaming.classDotName };
  const out = collector();
  for (const chunk of extractElements(text, ["testsuites", "testsuite"])) {
    const nodes = parseXml(chunk);
    if (!nodes) continue;
    for (const root of nodes)
      walkSuite({ tag: "", attrs: {}, children: [root], text: "" }, [], opts, (r) =>
        out.add(r.name, r.status),
      );
  }
  return out.results();
}

/** True when `text` holds at least one JUnit suite element. */
export function hasJunit(text: string): boolean {
  return /<testsuites?[\s>/]/.test(text);
}
