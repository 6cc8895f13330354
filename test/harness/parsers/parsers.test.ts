import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseJunit } from "../../../src/harness/junit.ts";
import { getParser, hasParser, parserNames } from "../../../src/harness/parsers/index.ts";
import { pytestNodeId } from "../../../src/harness/parsers/python.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/runner-output");
const read = (f: string) => readFileSync(join(FIXTURES, f), "utf8");
const pairs = (parser: string, log: string) => getParser(parser)(log).map((r) => [r.name, r.status]);

describe("registry", () => {
  it("names every parser and refuses unknown names clearly", () => {
    expect(parserNames()).toEqual(
      expect.arrayContaining([
        "pytest",
        "unittest",
        "jest",
        "vitest",
        "mocha",
        "tap",
        "go-test-json",
        "cargo",
      ]),
    );
    expect(parserNames()).toEqual(
      expect.arrayContaining(["maven", "gtest", "catch2", "ctest", "dotnet-trx", "junit"]),
    );
    expect(hasParser("pytest")).toBe(true);
    expect(hasParser("toString")).toBe(false);
    expect(() => getParser("nose")).toThrow(/unknown log parser "nose"/);
  });

  it("finds nothing in output that is not its runner's: [] means unparsed, never a pass", () => {
    const noise = "Compiling...\nhello world\nDone in 3s\nok\n1 passed\nPASSED\n";
    for (const name of parserNames()) {
      expect(getParser(name)(""), name).toEqual([]);
      expect(getParser(name)(noise), name).toEqual([]);
    }
  });

  it("reads no other runner's fixture as its own (no cross-talk between formats)", () => {
    const own: Record<string, string[]> = {
      pytest: ["pytest"],
      unittest: ["unittest"],
      cargo: ["cargo", "nextest"], // nextest logs carry cargo's compile errors and its doc-test run
      nextest: ["nextest", "cargo"], // and the doc tests, which cargo runs after nextest
      automake: ["automake"],
      gtest: ["gtest", "ctest"], // ctest --output-on-failure carries gtest output
      ctest: ["ctest"],
      "go-test-json": ["go-test-json"],
      // jest/mocha/vitest share tick marks and indentation; their logs are told apart by the recipe's choice.
    };
    for (const [parser, dirs] of Object.entries(own)) {
      for (const dir of readdirSync(FIXTURES)) {
        if (dirs.includes(dir) || dir.endsWith(".md")) continue;
        for (const f of readdirSync(join(FIXTURES, dir))) {
          expect(getParser(parser)(read(`${dir}/${f}`)), `${parser} on ${dir}/${f}`).toEqual([]);
        }
      }
    }
  });
});

describe("stable names", () => {
  it("durations, colours and CR line ends do not change names", () => {
    const jest = read("jest/verbose.log");
    const slower = jest
      .replace(/\((\d+) ms\)/g, (_, n) => `(${Number(n) * 7 + 3} ms)`)
      .replace(/\n/g, "\r\n");
    expect(pairs("jest", slower)).toEqual(pairs("jest", jest));
    const vitest = read("vitest/v5-verbose.log");
    const plain = vitest.replace(/\x1b\[[0-9;]*m/g, "").replace(/ (\d+)ms$/gm, " 1234ms");
    expect(pairs("vitest", plain)).toEqual(pairs("vitest", vitest));
    const go = read("go-test-json/calc.json").replace(/"Elapsed":[\d.]+/g, '"Elapsed":9.9');
    expect(pairs("go-test-json", go)).toEqual(pairs("go-test-json", read("go-test-json/calc.json")));
  });

  it("cargo doc tests drop the line number, which moves with every edit", () => {
    const a = "   Doc-tests c\n\nrunning 1 test\ntest src/lib.rs - add (line 3) ... ok\n\ntest result: ok.";
    expect(pairs("cargo", a)).toEqual([["doctest:src/lib.rs - add", "PASSED"]]);
    expect(pairs("cargo", a.replace("line 3", "line 40"))).toEqual(pairs("cargo", a));
  });
});

describe("pytest", () => {
  it("finds node ids with brackets, spaces and ' - ' in parameters", () => {
    expect(pytestNodeId("t.py::test_a - assert 1 == 2")).toBe("t.py::test_a");
    expect(pytestNodeId("t.py::test_p[x y-z] - AssertionError: [1] != [2]")).toBe("t.py::test_p[x y-z]");
    expect(pytestNodeId("t.py::test_p[a - b]")).toBe("t.py::test_p[a - b]");
    expect(pytestNodeId("t.py::test_p[[1, 2]-x] - boom")).toBe("t.py::test_p[[1, 2]-x]");
    expect(pytestNodeId("t.py::C::test_p[a - b] - msg")).toBe("t.py::C::test_p[a - b]");
  });

  it("reads xdist lines and keeps the worst status when a test is reported twice", () => {
    const log = [
      "[gw0] [ 50%] PASSED t.py::test_a",
      "[gw1] [100%] FAILED t.py::test_b",
      "PASSED t.py::test_a",
      "ERROR t.py::test_a - teardown failed",
    ].join("\n");
    expect(pairs("pytest", log)).toEqual([
      ["t.py::test_a", "ERROR"],
      ["t.py::test_b", "FAILED"],
    ]);
  });
});

describe("tap", () => {
  it("nests TAP 14 subtests without '# Subtest' lines and ignores YAML, comments and directives", () => {
    const log = [
      "TAP version 14",
      "# ok 5 - printed by a test, a comment",
      "    ok 1 - child a",
      "    not ok 2 - child b # TODO not yet",
      "    1..2",
      "ok 1 - parent",
      "not ok 2 - plain failure",
      "  ---",
      "  message: 'ok 3 - inside yaml'",
      "  ...",
      "ok 3 # SKIP no name",
      "ok 4 - escaped \\# hash",
      "Bail out! stopping",
      "1..4",
    ].join("\n");
    expect(pairs("tap", log)).toEqual([
      ["parent › child a", "PASSED"],
      ["parent › child b", "SKIPPED"],
      ["parent", "PASSED"],
      ["plain failure", "FAILED"],
      ["escaped # hash", "PASSED"],
    ]);
  });

  it("names subtests of a parent that crashed before reporting from its '# Subtest' line", () => {
    const log = [
      "TAP version 13",
      "# Subtest: suite",
      "    # Subtest: a",
      "    ok 1 - a",
      "    not ok 2 - b",
    ].join("\n");
    expect(pairs("tap", log)).toEqual([
      ["suite › a", "PASSED"],
      ["suite › b", "FAILED"],
    ]);
  });
});

describe("go", () => {
  it("turns older Go's text build failure and a failed package without failing test into ERRORs", () => {
    const log = [
      "# example.com/m/a",
      "a/a.go:3:1: syntax error",
      '{"Action":"start","Package":"example.com/m/b"}',
      '{"Action":"run","Package":"example.com/m/b","Test":"TestB"}',
      '{"Action":"output","Package":"example.com/m/b","Test":"TestB","Output":"--- PASS: TestB (0.00s)\\n"}',
      '{"Action":"pass","Package":"example.com/m/b","Test":"TestB","Elapsed":0}',
      '{"Action":"output","Package":"example.com/m/a","Output":"FAIL\\texample.com/m/a [build failed]\\n"}',
      '{"Action":"fail","Package":"example.com/m/a","Elapsed":0}',
      "not json {",
    ].join("\n");
    expect(pairs("go-test-json", log)).toEqual([
      ["TestB", "PASSED"],
      ["package:example.com/m/a", "ERROR"],
    ]);
  });
});

describe("cargo", () => {
  it("takes a status printed after the test's own output (--nocapture) and reports compile errors", () => {
    const log = [
      "     Running unittests src/lib.rs (target/debug/deps/c-0123456789abcdef)",
      "running 2 tests",
      "test a::one ... some printed text",
      "ok",
      "test a::two ... FAILED",
      "test result: FAILED. 1 passed; 1 failed",
      "error[E0425]: cannot find function `nope` in this scope",
      'error: could not compile `c` (test "it") due to 1 previous error',
    ].join("\n");
    expect(pairs("cargo", log)).toEqual([
      ["a::one", "PASSED"],
      ["a::two", "FAILED"],
      ["build:c", "ERROR"],
    ]);
  });
});

describe("maven", () => {
  it("prefers the surefire XML reports when the log carries them", () => {
    const xml = ["TEST-com.x.CalcTest.xml", "TEST-com.x.CalcTest_Inner.xml", "TEST-com.x.OtherTest.xml"]
      .map((f) => read(`maven/${f}`))
      .join("\n");
    const log = `${read("maven/console.log")}\n${xml}`;
    expect(pairs("maven", log)).toEqual([
      ["com.x.CalcTest.positive(int)[1]", "PASSED"],
      ["com.x.CalcTest.positive(int)[2]", "PASSED"],
      ["com.x.CalcTest.positive(int)[3]", "FAILED"],
      ["com.x.CalcTest.addsWrong", "FAILED"],
      ["com.x.CalcTest.addsNumbers", "PASSED"],
      ["com.x.CalcTest.divByZero", "ERROR"],
      ["com.x.CalcTest.skipped", "SKIPPED"],
      ["com.x.CalcTest$Inner.innerOk", "PASSED"],
      ["com.x.OtherTest.fine", "PASSED"],
    ]);
  });

  it("reads the older surefire console format", () => {
    const log = [
      "Running com.x.ATest",
      "Tests run: 2, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: 0.05 sec <<< FAILURE! - in com.x.ATest",
      "bad(com.x.ATest)  Time elapsed: 0.01 sec  <<< FAILURE!",
      "Tests run: 3, Failures: 0, Errors: 0, Skipped: 1, Time elapsed: 0.02 sec - in com.x.BTest",
    ].join("\n");
    expect(pairs("maven", log)).toEqual([
      ["com.x.ATest", "FAILED"],
      ["com.x.ATest.bad", "FAILED"],
      ["com.x.BTest", "PASSED"],
    ]);
  });
});

describe("junit", () => {
  it("reads concatenated documents among other output and skips a malformed one", () => {
    const text = [
      "some log line <not xml>",
      '<?xml version="1.0"?><testsuite name="a"><testcase classname="A" name="x"/></testsuite>',
      "cat: missing.xml: No such file",
      '<?xml version="1.0"?><testsuites><testsuite name="b"><testsuite name="inner">',
      '<testcase classname="B" name="y"><failure message="m"/></testcase>',
      '<testcase name="z"><error/></testcase><testcase classname="B" name="r"><flakyFailure/></testcase>',
      "</testsuite></testsuite></testsuites>",
      '<testsuite name="broken"><testcase classname="C" name="q"></testsuite>',
    ].join("\n");
    expect(parseJunit(text).map((r) => [r.name, r.status])).toEqual([
      ["A.x", "PASSED"],
      ["B.y", "FAILED"],
      ["z", "ERROR"],
      ["B.r", "PASSED"],
      ["C.q", "PASSED"],
    ]);
    expect(parseJunit(text, { naming: (c) => [...c.suites, c.name].join("/") }).map((r) => r.name)).toEqual([
      "a/x",
      "b/inner/y",
      "b/inner/z",
      "b/inner/r",
      "broken/q",
    ]);
  });
});
