import { describe, expect, it } from "vitest";
import { grade, listsOf, namedByPatch, testLeaf } from "../../src/harness/grade.ts";
import { LISTERS, listCommand } from "../../src/harness/list.ts";
import type { StateRun, TestResult, TestStatus } from "../../src/records/index.ts";

type Tests = Record<string, TestStatus>;
function run(state: StateRun["state"], exit_code: number, tests: Tests): StateRun {
  const list: TestResult[] = Object.entries(tests).map(([name, status]) => ({ name, status }));
  return {
    state,
    exit_code,
    timed_out: false,
    duration_ms: 10,
    tests: list,
    parsed: list.length > 0,
    log_tail: "",
  };
}
const twice = (state: StateRun["state"], code: number, t: Tests) => [
  run(state, code, t),
  run(state, code, t),
];

/** A test patch that adds TestSum to calc_test.go and touches TestClampLow's body. */
const TEST_PATCH = [
  "diff --git a/calc/calc_test.go b/calc/calc_test.go",
  "--- a/calc/calc_test.go",
  "+++ b/calc/calc_test.go",
  "@@ -10,3 +10,3 @@ func TestClampLow(t *testing.T) {",
  "-\tif Clamp(-5, 0, 10) != 0 {",
  "+\tif Clamp(-5, 0, 10) != 0 || Clamp(-1, 0, 3) != 0 {",
  "@@ -20,0 +20,5 @@ func TestClampLow(t *testing.T) {",
  "+func TestSum(t *testing.T) {",
  '+\tt.Run("three numbers", func(t *testing.T) {})',
  "+}",
  "",
].join("\n");

describe("three-state grading (Multi-SWE-bench's categories)", () => {
  // The package does not compile with the test patch alone: no test of it runs in the buggy state.
  const buggy = twice("buggy", 1, { "package:example.com/calc": "ERROR", TestOther: "PASSED" });
  const resolved = twice("resolved", 0, {
    TestAdd: "PASSED",
    TestClampLow: "PASSED",
    TestSum: "PASSED",
    "TestSum/three_numbers": "PASSED",
    TestOther: "PASSED",
    TestSkipped: "PASSED",
  });
  const buggySkip = twice("buggy", 1, { TestOther: "PASSED", TestSkipped: "SKIPPED" });

  it("without a base state, every test absent with the test patch is FAIL_TO_PASS (the old swelling)", () => {
    const g = grade([...buggy, ...resolved], { testPatch: TEST_PATCH });
    expect(g.fail_to_pass).toEqual([
      "TestAdd",
      "TestClampLow",
      "TestSkipped",
      "TestSum",
      "TestSum/three_numbers",
    ]);
    expect(g.pass_to_pass).toEqual(["TestOther"]);
    expect(g.categories.from_base).toEqual([]);
  });

  it("with base runs: tests that passed before the PR and that the test patch does not touch are PASS_TO_PASS", () => {
    const base = twice("base", 1, { TestAdd: "PASSED", TestClampLow: "PASSED", TestOther: "PASSED" });
    const g = grade([...buggySkip.slice(0, 0), ...buggy, ...resolved, ...base], { testPatch: TEST_PATCH });
    expect(g.verdict).toBe("ok");
    // TestClampLow passed at the base commit, but the PR changed it: it stays the PR's own.
    expect(g.fail_to_pass).toEqual(["TestClampLow", "TestSkipped", "TestSum", "TestSum/three_numbers"]);
    expect(g.pass_to_pass).toEqual(["TestAdd", "TestOther"]);
    expect(g.categories).toMatchObject({
      p2p: ["TestOther"],
      f2p: [],
      s2p: [],
      n2p: ["TestAdd", "TestClampLow", "TestSkipped", "TestSum", "TestSum/three_numbers"],
      from_base: ["TestAdd"],
      anomalies: [],
    });
    expect(g.detail).toMatch(/1 of them passed at the base commit; the test patch broke their build/);
  });

  it("a test that failed at the base commit stays FAIL_TO_PASS; base runs say nothing about the verdict", () => {
    const base = [run("base", 1, { TestAdd: "FAILED" }), run("base", 1, { TestAdd: "PASSED" })];
    const g = grade([...buggy, ...resolved, ...base], { testPatch: TEST_PATCH });
    expect(g.fail_to_pass).toContain("TestAdd");
    expect(g.suspicious).toEqual([]);
  });

  it("a listing stands for the base state: a subtest is there when its top-level test is listed", () => {
    const listed = new Set(["TestAdd", "TestClampLow", "TestOther", "TestSum"]);
    const g = grade([...buggy, ...resolved], {
      testPatch: TEST_PATCH,
      base: { passes: (n) => LISTERS["go-test-json"]!.covers(listed, n) },
    });
    // TestSum is named by the test patch (it is the PR's new test, here listed to show the rule holds).
    expect(g.pass_to_pass).toEqual(["TestAdd", "TestOther"]);
    expect(g.fail_to_pass).toEqual(["TestClampLow", "TestSkipped", "TestSum", "TestSum/three_numbers"]);
  });

  it("skipped with the test patch and passing with the fix is s2p, and FAIL_TO_PASS", () => {
    const g = grade([
      ...buggySkip,
      ...resolved.map((r) => ({ ...r, tests: r.tests.filter((t) => t.name !== "TestAdd") })),
    ]);
    expect(g.categories.s2p).toEqual(["TestSkipped"]);
    expect(g.fail_to_pass).toContain("TestSkipped");
  });

  it("records Multi-SWE-bench's anomalies: p2f, and passing at base, gone with the test patch, failing after", () => {
    const g = grade([
      run("base", 1, { t_gone: "PASSED" }),
      run("buggy", 1, { t_p2f: "PASSED", t_new: "FAILED" }),
      run("resolved", 1, { t_p2f: "FAILED", t_new: "PASSED", t_gone: "FAILED" }),
    ]);
    expect(g.categories.anomalies).toEqual([
      expect.objectContaining({
        test: "t_p2f",
        buggy: "PASSED",
        resolved: "FAILED",
        pattern: expect.stringMatching(/^p2f/),
      }),
      expect.objectContaining({ test: "t_gone", base: "PASSED", buggy: "NONE", resolved: "FAILED" }),
    ]);
    expect(g.verdict).toBe("resolved_fails");
  });

  it("listsOf: FAIL_TO_PASS = f2p, s2p, n2p without from_base; PASS_TO_PASS = p2p and from_base", () => {
    expect(
      listsOf({ p2p: ["a"], f2p: ["b"], s2p: ["c"], n2p: ["d", "e"], from_base: ["e"], anomalies: [] }),
    ).toEqual({ fail_to_pass: ["b", "c", "d"], pass_to_pass: ["a", "e"] });
  });
});

describe("tests a test patch names", () => {
  const named = namedByPatch(TEST_PATCH);
  it("by the last part of the name, in changed lines or hunk headers", () => {
    expect(named("TestClampLow")).toBe(true); // its hunk's header
    expect(named("TestSum")).toBe(true);
    expect(named("TestSum/three_numbers")).toBe(true); // "three numbers" in the source
    expect(named("TestAdd")).toBe(false);
  });
  it("not by the header of a hunk that only adds a new function after the one it names", () => {
    const appended = [
      "diff --git a/calc/calc_test.go b/calc/calc_test.go",
      "--- a/calc/calc_test.go",
      "+++ b/calc/calc_test.go",
      "@@ -12,3 +12,9 @@ func TestClampLow(t *testing.T) {",
      '\t\tt.Fatal("Clamp(-5, 0, 10) != 0")',
      "\t}",
      " }",
      "+",
      "+func TestSum(t *testing.T) {",
      "+\tif Sum(1, 2, 3) != 6 {",
      "+\t}",
      "+}",
      "",
    ].join("\n");
    // git writes the context lines with a leading space; the test's tabs follow it.
    const patch = appended.replace(/^\t/gm, " \t");
    expect(namedByPatch(patch)("TestClampLow")).toBe(false);
    expect(namedByPatch(patch)("TestSum")).toBe(true);
  });
  it("leaves of runner-native names", () => {
    expect(testLeaf("tests/test_x.py::TestC::test_m[1-2]")).toBe("test_m");
    expect(testLeaf("TestFoo/new_case")).toBe("new_case");
    expect(testLeaf("Suite › does a thing")).toBe("does a thing");
    expect(testLeaf("com.acme.FooTest.testBar")).toBe("testBar");
    expect(testLeaf("tests::nested::deep")).toBe("deep");
  });
});

describe("listing tests without running them", () => {
  it("derives the list command from the run's test command where the runner can", () => {
    expect(listCommand("go-test-json", "go test -json -count=1 ./calc && test -e calc/calc_test.go")).toBe(
      "go test -list . ./calc && test -e calc/calc_test.go",
    );
    expect(listCommand("pytest", "python -m pytest -rA -p no:cacheprovider tests/test_a.py")).toMatch(
      /^bash -c '.*exec python -m pytest --collect-only -q "\$\{keep\[@\]\}"' sweu-list -rA -p no:cacheprovider tests\/test_a\.py$/,
    );
    expect(listCommand("cargo", "cargo test --offline --no-fail-fast --lib")).toBe(
      "cargo test --offline --no-fail-fast --lib -- --list",
    );
    expect(listCommand("jest", "npx jest x.test.js")).toBeUndefined();
    expect(listCommand("unittest", "python -m unittest -v tests.test_a")).toBeUndefined();
  });

  it("reads each runner's listing into the names its parser gives", () => {
    expect(
      LISTERS["go-test-json"]!.parse("TestAdd\nTestClampLow\nExampleAdd\nok  \texample.com/calc\t0.002s\n"),
    ).toEqual(["TestAdd", "TestClampLow", "ExampleAdd"]);
    expect(
      LISTERS.pytest!.parse(
        "tests/test_a.py::test_one\ntests/test_a.py::T::test_two[x y]\n\n2 tests collected in 0.01s\n",
      ),
    ).toEqual(["tests/test_a.py::test_one", "tests/test_a.py::T::test_two[x y]"]);
    expect(
      LISTERS.cargo!.parse(
        "tests::a: test\nmod::b: test\n\n2 tests, 0 benchmarks\nsrc/lib.rs - foo (line 10): test\n",
      ),
    ).toEqual(["tests::a", "mod::b", "doctest:src/lib.rs - foo"]);
  });
});
