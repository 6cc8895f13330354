import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAutomake } from "../../../src/harness/parsers/automake.ts";
import { parseCargo } from "../../../src/harness/parsers/cargo.ts";
import { parseNextest } from "../../../src/harness/parsers/nextest.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/runner-output");
const read = (f: string) => readFileSync(join(FIXTURES, f), "utf8");
const statuses = (rs: { name: string; status: string }[]) =>
  Object.fromEntries(rs.map((r) => [r.name, r.status]));

describe("nextest parser", () => {
  const log = read("nextest/workspace-and-doctests.log");

  it("names tests as cargo test does, and as nextest's own JUnit report of the same run does", () => {
    const names = parseNextest(log).map((r) => r.name);
    // JUnit holds the tests that ran (not the skipped ones); its `name` is the test path, `classname` the binary.
    const junit = [...read("nextest/junit.xml").matchAll(/<testcase name="([^"]+)" classname="([^"]+)"/g)];
    expect(junit.length).toBe(11);
    for (const [, name] of junit) expect(names).toContain(name);
    // The names cargo test gives the same tests (its fixture was made from the same kind of crate).
    const cargo = parseCargo(read("cargo/no-fail-fast.log")).map((r) => r.name);
    expect(cargo).toEqual(
      expect.arrayContaining(["tests::adds", "tests::adds_wrong", "doctest:src/lib.rs - add"]),
    );
    expect(names).toEqual(expect.arrayContaining(["tests::adds", "tests::adds_wrong"]));
    expect(names.filter((n) => /\s/.test(n) && !n.startsWith("doctest:"))).toEqual([]);
  });

  it("never turns a crash into a pass: signals are errors, an unfinished run leaves tests missing", () => {
    const s = statuses(parseNextest(log));
    expect(s.aborts).toBe("ERROR");
    expect(s.segfaults).toBe("ERROR");
    // The run cut off after the first crash (nextest killed): later tests are missing, none invented.
    const cut = log.slice(0, log.indexOf("SIGABRT") + 200);
    const partial = statuses(parseNextest(cut));
    expect(partial.aborts).toBe("ERROR");
    expect(partial.triples).toBeUndefined();
    expect(partial["doctest:alpha/src/lib.rs - add"]).toBeUndefined();
  });

  it("ignores result-like lines a test prints, and reports nothing for output it does not know", () => {
    const forged = [
      "        FAIL [   0.016s] ( 3/11) alpha tests::real",
      "  stdout ───",
      "",
      "            PASS [   0.001s] ( 9/11) alpha tests::forged",
      "    test tests::real ... ok",
      "     Summary [   0.113s] 1 test run: 0 passed, 1 failed, 0 skipped",
      "        FAIL [   0.016s] ( 3/11) alpha tests::real",
    ].join("\n");
    expect(parseNextest(forged)).toEqual([{ name: "tests::real", status: "FAILED" }]);
    // Intermediate statuses are not results.
    const slow =
      "        SLOW [> 60.000s] ( ─/11) alpha tests::slowpoke\n   TRY 1 FAIL [   0.1s] alpha tests::x\n";
    expect(parseNextest(slow)).toEqual([]);
    expect(parseNextest("error: no such command: `nextest`\n")).toEqual([]);
    expect(parseNextest("")).toEqual([]);
  });

  it("reads the release without the progress counter (older nextest)", () => {
    const old = "        PASS [   0.004s] calc tests::adds\n     SIGSEGV [   0.010s] calc::crash boom\n";
    expect(parseNextest(old)).toEqual([
      { name: "tests::adds", status: "PASSED" },
      { name: "boom", status: "ERROR" },
    ]);
  });
});

describe("automake parser", () => {
  it("counts expected failures as skipped, unexpected passes and hard errors as failures", () => {
    const s = statuses(parseAutomake(read("automake/make-k-check.log")));
    expect(s).toMatchObject({ test_xfail: "SKIPPED", test_xpass: "FAILED", test_hard: "ERROR" });
    // The segfaulting program is a FAIL; what a test prints ("PASS: fake line …") stays in its own log.
    expect(s.test_crash).toBe("FAILED");
    expect(Object.keys(s).some((n) => n.includes("fake"))).toBe(false);
  });

  it("reports nothing when make stopped before the harness ran (a test program that does not build)", () => {
    const log = [
      "tests/clamp_test.c:9:3: error: implicit declaration of function 'sign'",
      "make[1]: *** [Makefile:540: tests/clamp_test.o] Error 1",
      "make: *** [Makefile:1035: check-am] Error 2",
      "make: Target 'check' not remade because of errors.",
    ].join("\n");
    expect(parseAutomake(log)).toEqual([]);
    expect(parseAutomake("# PASS:  2\n# FAIL:  1\n")).toEqual([]);
  });
});
