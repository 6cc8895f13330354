import { afterEach, describe, expect, it } from "vitest";
import { fixFacts, gateVerdict, leakFindings } from "../../src/checks/statement.ts";
import { OpenAIModel } from "../../src/model/openai.ts";
import type { Instance, StateRun } from "../../src/records/index.ts";
import { settleStatement } from "../../src/statement/settle.ts";
import { templatedStatement } from "../../src/statement/template.ts";
import { makeInstance } from "../export/fixtures.ts";
import { call, FakeOpenAI, type Turn } from "../helpers/fake-openai.ts";

/** clamp ignores its upper bound; the fix adds a helper, the PR's test calls clamp. */
const PATCH = [
  "diff --git a/calc/ops.py b/calc/ops.py",
  "--- a/calc/ops.py",
  "+++ b/calc/ops.py",
  "@@ -1,2 +1,5 @@",
  " def clamp(x, lo, hi):",
  "-    return max(lo, x)",
  "+    upper_bounded = _apply_upper_bound(x, hi)",
  "+    return max(lo, upper_bounded)",
  "+def _apply_upper_bound(x, hi):",
  "+    return min(x, hi)",
  "",
].join("\n");
const TEST_PATCH = [
  "diff --git a/tests/test_ops.py b/tests/test_ops.py",
  "--- a/tests/test_ops.py",
  "+++ b/tests/test_ops.py",
  "@@ -1,0 +1,4 @@",
  "+from calc.ops import clamp",
  "+",
  "+def test_clamp_high():",
  "+    assert clamp(50, 0, 10) == 10",
  "",
].join("\n");
const F2P = ["tests/test_ops.py::test_clamp_high"];
const ORIGINAL = "Fix clamp upper bound\n\nUse _apply_upper_bound in clamp so values above hi are capped.";
const CLEAN =
  "clamp() ignores its upper bound\n\nCalling `clamp(50, 0, 10)` returns 50 instead of 10: values above `hi` should come back as `hi`.";
const LEAKS_NAME = `${CLEAN}\n\nAdd a helper \`_apply_upper_bound\` and call it from clamp.`;
const LEAKS_LINE = `${CLEAN}\n\nChange the return to \`return max(lo, upper_bounded)\`.`;

const PYTEST_LOG = [
  ">>>>> SWEU TEST OUTPUT START n0nce",
  "=================================== FAILURES ===================================",
  "_______________________________ test_clamp_high ________________________________",
  "tests/test_ops.py:4: in test_clamp_high",
  "    assert clamp(50, 0, 10) == 10",
  "E   assert 50 == 10",
  "E    +  where 50 = clamp(50, 0, 10)",
  "FAILED tests/test_ops.py::test_clamp_high - assert 50 == 10",
  ">>>>> SWEU TEST OUTPUT END n0nce",
].join("\n");

function instance(problem: string, buggyLog = PYTEST_LOG): Instance {
  const runs: StateRun[] = [
    {
      state: "buggy",
      exit_code: 1,
      timed_out: false,
      duration_ms: 10,
      tests: [],
      parsed: true,
      log_tail: buggyLog,
    },
    {
      state: "resolved",
      exit_code: 0,
      timed_out: false,
      duration_ms: 10,
      tests: [],
      parsed: true,
      log_tail: "",
    },
  ];
  const base = makeInstance({ instance_id: "acme__calc-7" });
  return {
    ...base,
    repo: "acme/calc",
    patch: PATCH,
    test_patch: TEST_PATCH,
    problem_statement: problem,
    FAIL_TO_PASS: F2P,
    validation: { ...base.validation, runs },
  };
}
const task = (source: "issue" | "pr" = "pr") => ({
  code_files: ["calc/ops.py"],
  problem_statement_source: source,
  pr_text: ORIGINAL,
});
const facts = fixFacts({ patch: PATCH, test_patch: TEST_PATCH, code_files: ["calc/ops.py"] }, F2P);

describe("the rule-based leak check", () => {
  it("knows what the fix would give away: its files, new identifiers, added lines, the deciding tests", () => {
    expect(facts.files).toEqual(["calc/ops.py"]);
    expect(facts.identifiers.sort()).toEqual(["_apply_upper_bound", "upper_bounded"]);
    expect(facts.addedLines).toContain("return max(lo, upper_bounded)");
    expect(facts.tests).toEqual(["test_clamp_high"]);
  });

  it("flags each kind of leak, and not the API the tests call", () => {
    expect(leakFindings(CLEAN, facts)).toEqual([]);
    expect(leakFindings(LEAKS_NAME, facts)).toEqual([
      "names `_apply_upper_bound`, an identifier of the fix's added code (not of the tests)",
    ]);
    expect(leakFindings(LEAKS_LINE, facts)).toEqual([
      "names `upper_bounded`, an identifier of the fix's added code (not of the tests)",
      'quotes a line the fix adds: "return max(lo, upper_bounded)"',
    ]);
    expect(leakFindings("See calc/ops.py, and ops.py; test_clamp_high fails", facts)).toEqual([
      "names the file calc/ops.py, which the fix changes",
      "names the test test_clamp_high",
    ]);
  });
});

describe("the statement gate", () => {
  it.each([
    ["Changes for version 11.0.0", /release or version title/],
    ["Version 11.0.1", /release or version title/],
    ["d2m", /1 word of content/],
    ["Add subfactorial()", /2 words of content/],
    ["Issue #1134: Add running_statistics", /2 words of content/],
    ["Fixes #12", /only an issue reference/],
    ["", /empty/],
  ])("refuses %j", (text, why) => {
    expect(gateVerdict(text)).toMatch(why);
  });
  it("passes statements that say what goes wrong", () => {
    expect(gateVerdict(CLEAN)).toBe("ok");
    expect(
      gateVerdict(
        "Version 2.0\n\nParsing a date with a zone offset drops the minutes, e.g. +05:30 becomes +05:00.",
      ),
    ).toBe("ok");
  });
});

describe("a templated statement, without a model", () => {
  it("is written from the buggy state's assertion messages, with no location or test name", () => {
    const t = templatedStatement(
      { repo: "acme/calc", runs: instance("x").validation.runs, title: "Version 1.2" },
      facts,
    )!;
    expect(t).toMatch(/^# calc: behaviour does not match what is expected/);
    expect(t).toContain("- assert 50 == 10");
    expect(t).toContain("- + where 50 = clamp(50, 0, 10)");
    expect(t).not.toMatch(/test_clamp_high|tests\/test_ops\.py|Version 1\.2/);
    expect(leakFindings(t, facts)).toEqual([]);
  });

  it("says what is missing when the tests do not compile without the fix", () => {
    const goLog = [
      '{"Action":"output","Package":"example.com/calc","Output":"# example.com/calc [example.com/calc.test]\\n"}',
      '{"Action":"output","Package":"example.com/calc","Output":"calc/calc_test.go:22:12: undefined: Sum\\n"}',
      '{"Action":"fail","Package":"example.com/calc"}',
    ].join("\n");
    const runs = instance("x", goLog).validation.runs;
    const t = templatedStatement(
      { repo: "acme/calc", runs, title: "Add Sum" },
      { ...facts, tests: ["TestSum"] },
    )!;
    expect(t).toMatch(/^# Add Sum/);
    expect(t).toContain("- undefined: Sum");
    expect(t).toMatch(/What was asked for: Add Sum/);
  });

  it("reads unittest's output: no passing test's line, and an API name that is also a doctest's stays", () => {
    // more-itertools #1135 as its buggy runs printed it; `running_max` is a doctest's name and the API's.
    const log = [
      "Make sure taking negative items results in a ValueError ... ok",
      "test_maxlen (tests.test_more.TestRunningMax.test_maxlen) ... ERROR",
      "ERROR: test_maxlen (tests.test_more.TestRunningMax.test_maxlen)",
      '  File "/testbed/tests/test_more.py", line 6731, in test_maxlen',
      "AttributeError: module 'more_itertools' has no attribute 'running_max'",
      "TypeError: running_mean() got an unexpected keyword argument 'maxlen'",
    ].join("\n");
    const testPatch = [
      "diff --git a/tests/test_more.py b/tests/test_more.py",
      "--- a/tests/test_more.py",
      "+++ b/tests/test_more.py",
      "@@ -1,1 +1,3 @@",
      " import more_itertools as mi",
      "+    def test_maxlen(self):",
      "+        list(mi.running_max(iter(data), maxlen=0))",
      "",
    ].join("\n");
    const f = fixFacts({ patch: PATCH, test_patch: testPatch, code_files: ["calc/ops.py"] }, [
      "more_itertools.more.running_max",
      "tests.test_more.TestRunningMax.test_maxlen",
    ]);
    expect(f.tests).toEqual(["test_maxlen"]);
    const runs = instance("x", log).validation.runs;
    const t = templatedStatement(
      { repo: "more-itertools/more-itertools", runs, title: "Add running_max" },
      f,
    )!;
    expect(t).toMatch(/^# Add running_max\n/);
    expect(t).toContain("- AttributeError: module 'more_itertools' has no attribute 'running_max'");
    expect(t).toContain("- TypeError: running_mean() got an unexpected keyword argument 'maxlen'");
    expect(t).not.toMatch(/\.\.\. ok|'the test'/);
  });
});

describe("settling a statement without a model", () => {
  it("keeps a mined statement that says something, flagging a leak", async () => {
    const s = await settleStatement(instance(ORIGINAL), task("pr"));
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.instance.problem_statement).toBe(ORIGINAL);
    expect(s.instance.problem_statement_source).toBe("pr");
    expect(s.instance.statement).toMatchObject({
      original_source: "pr",
      flags: ["leaks"],
      leaks: ["names `_apply_upper_bound`, an identifier of the fix's added code (not of the tests)"],
      attempts: 0,
    });
  });

  it("replaces a release title by the templated statement, keeping the original beside it", async () => {
    const s = await settleStatement(instance("Version 11.0.1"), task("pr"));
    expect(s.ok && s.instance.problem_statement_source).toBe("written");
    if (!s.ok) return;
    expect(s.instance.original_problem_statement).toBe("Version 11.0.1");
    expect(s.instance.statement?.flags).toEqual(["templated"]);
    expect(s.instance.statement?.original_gate).toMatch(/release or version title/);
    expect(s.instance.problem_statement).toContain("assert 50 == 10");
  });

  it("rejects the instance by name when nothing can be written", async () => {
    const s = await settleStatement(instance("d2m", "no messages here"), task("pr"));
    expect(s).toMatchObject({ ok: false, reason: "vague_problem_statement" });
  });
});

describe("the writer, through the scripted OpenAI-protocol server", () => {
  const servers: FakeOpenAI[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  const leak = (leaks: boolean, reasons: string[] = []): Turn =>
    call("report_statement_leak", { leaks, reasons });
  async function model(turns: Turn[], leakTurns: Turn[] = []) {
    const server = await FakeOpenAI.start(turns, { toolTurns: { report_statement_leak: leakTurns } });
    servers.push(server);
    return { server, model: new OpenAIModel({ baseURL: server.url, model: "fake-writer", maxRetries: 0 }) };
  }

  it("refuses a statement that names a function the fix adds, and takes the rewrite", async () => {
    const { server, model: m } = await model([{ content: LEAKS_NAME }, { content: CLEAN }], [leak(false)]);
    const s = await settleStatement(instance(ORIGINAL), task("pr"), { model: m });
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.instance.problem_statement).toBe(CLEAN);
    expect(s.instance.problem_statement_source).toBe("written");
    expect(s.instance.original_problem_statement).toBe(ORIGINAL);
    expect(s.instance.statement).toMatchObject({ attempts: 2, flags: [], leaks: [] });
    expect(s.instance.statement?.refused).toEqual([
      "attempt 1: names `_apply_upper_bound`, an identifier of the fix's added code (not of the tests)",
    ]);
    // The writer saw the issue/PR text, the fix and FAIL_TO_PASS; the second request carries the refusal.
    const first = server.requests[0]!.messages.map((x) => x.content).join("\n");
    expect(first).toContain("def _apply_upper_bound");
    expect(first).toContain("tests/test_ops.py::test_clamp_high");
    const second = server.requests[1]!.messages.at(-1)!.content!;
    expect(second).toMatch(/^Refused: names `_apply_upper_bound`/);
    // Only the accepted statement went to the LLM leak judge.
    expect(server.toolRequests.report_statement_leak).toHaveLength(1);
    expect(s.instance.cost.prompt_tokens).toBeGreaterThan(instance(ORIGINAL).cost.prompt_tokens);
  });

  it("refuses a statement that quotes a line of the fix", async () => {
    const { model: m } = await model([{ content: LEAKS_LINE }, { content: CLEAN }], [leak(false)]);
    const s = await settleStatement(instance(ORIGINAL), task("pr"), { model: m });
    expect(s.ok && s.instance.problem_statement).toBe(CLEAN);
    if (!s.ok) return;
    expect(s.instance.statement?.refused[0]).toMatch(
      /quotes a line the fix adds: "return max\(lo, upper_bounded\)"/,
    );
  });

  it("refuses what the LLM leak judge finds leaking, though the rules pass it", async () => {
    const hint = `${CLEAN}\n\nThe return value should be capped with min() before max() is applied.`;
    const { model: m } = await model(
      [{ content: hint }, { content: CLEAN }],
      [leak(true, ["describes how to implement the fix"]), leak(false)],
    );
    const s = await settleStatement(instance(ORIGINAL), task("pr"), { model: m });
    expect(s.ok && s.instance.problem_statement).toBe(CLEAN);
    if (!s.ok) return;
    expect(s.instance.statement?.refused).toEqual([
      "attempt 1: the leak judge: describes how to implement the fix",
    ]);
  });

  it("a model that answers empty or leaking three times leaves the original statement, flagged", async () => {
    const { server, model: m } = await model([{ content: "" }, { content: LEAKS_NAME }, { content: "   " }]);
    const s = await settleStatement(instance(ORIGINAL), task("pr"), { model: m });
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(server.requests).toHaveLength(3);
    expect(s.instance.problem_statement).toBe(ORIGINAL);
    expect(s.instance.problem_statement_source).toBe("pr");
    expect(s.instance.original_problem_statement).toBeUndefined();
    expect(s.instance.statement).toMatchObject({ attempts: 3, flags: ["writer_failed", "leaks"] });
    expect(s.instance.statement?.refused).toEqual([
      "attempt 1: the statement is empty",
      "attempt 2: names `_apply_upper_bound`, an identifier of the fix's added code (not of the tests)",
      "attempt 3: the statement is empty",
    ]);
  });

  it("keeps a clean issue statement the leak judge passes, without writing", async () => {
    const { server, model: m } = await model([], [leak(false)]);
    const s = await settleStatement(instance(CLEAN), task("issue"), { model: m });
    expect(s.ok && s.instance.problem_statement_source).toBe("issue");
    expect(server.requests).toHaveLength(0);
    expect(server.toolRequests.report_statement_leak).toHaveLength(1);
  });
});
