import { describe, expect, it } from "vitest";
import { decide } from "../../src/checks/audit.ts";
import { type BaselineRun, decideBaseline, judgeFor } from "../../src/checks/baseline.ts";
import { exitJudge, logJudge, swebenchSection } from "../../src/checks/outcome.ts";
import { MARK } from "../../src/harness/output.ts";
import type { CheckVerdict } from "../../src/records/index.ts";

const run = (exitCode: number, output: string, o: Partial<BaselineRun> = {}): BaselineRun => ({
  apply: "applied",
  applyLog: "",
  exitCode,
  timedOut: false,
  durationMs: 10,
  output,
  nonce: "n0nce",
  ...o,
});

/** SWE-bench's log: `set -x` traces of the no-op marker commands around pytest -rA's summary. */
const sweLog = (lines: string[], tail = "") =>
  [
    "+ git status",
    "+ : '>>>>> Start Test Output'",
    "+ pytest -rA tests/t.py",
    ...lines,
    "+ : '>>>>> End Test Output'",
    tail,
  ].join("\n");
const opts = { markers: false, timeoutMs: 20_000 };

describe("the audit's baseline", () => {
  it("judges by the exit code when it separates the states", () => {
    const b = decideBaseline(run(1, "1 failed"), run(0, "2 passed"), opts);
    expect(b).toMatchObject({ ok: true, convention: "exit-code" });
  });

  it("is broken when a state met the process limit, whatever its exit code said", () => {
    const b = decideBaseline(run(1, "1 failed"), run(0, "2 passed", { processLimit: true }), opts);
    expect(b.ok).toBe(false);
    expect(b.reasons).toEqual([
      "the verifier met the container's process limit in the resolved state (a fork was refused): it cannot be judged under these limits",
    ]);
  });

  it("reads SWE-bench's log when the exit code is always 0 (the scripts end with a git checkout)", () => {
    const buggy = run(0, sweLog(["PASSED tests/t.py::test_old", "FAILED tests/t.py::test_new"]));
    const resolved = run(0, sweLog(["PASSED tests/t.py::test_old", "PASSED tests/t.py::test_new"]));
    const b = decideBaseline(buggy, resolved, opts);
    expect(b).toMatchObject({
      ok: true,
      convention: "swebench-log",
      parser: "pytest",
      FAIL_TO_PASS: ["tests/t.py::test_new"],
      PASS_TO_PASS: ["tests/t.py::test_old"],
    });
    const judge = judgeFor({ baseline: b });
    expect(judge(buggy, 1000)).toMatchObject({ passed: false });
    expect(judge(resolved, 1000)).toMatchObject({ passed: true });
    // A probe state whose log lacks a listed test fails it; SWE-bench 5's recorded exit code counts too.
    expect(judge(run(0, sweLog(["PASSED tests/t.py::test_new"])), 1000)).toMatchObject({ passed: false });
    const withExit = sweLog(
      ["PASSED tests/t.py::test_old", "PASSED tests/t.py::test_new"],
      ">>>>> Test Exit Code: 1",
    );
    expect(swebenchSection(withExit)?.exit).toBe(1);
    expect(judge(run(0, withExit), 1000)).toMatchObject({
      passed: false,
      detail: "its log records test exit code 1",
    });
  });

  it("is broken, with what the verifier said, when buggy passes or resolved fails", () => {
    const b = decideBaseline(run(0, "ok"), run(0, "ok"), opts);
    expect(b.ok).toBe(false);
    expect(b.reasons.join()).toMatch(/the buggy state passes \(exit 0\).*it does not fail without the fix/);
    const missing = decideBaseline(run(127, "x"), run(127, "bash: line 3: python2: command not found"), opts);
    expect(missing.reasons.join()).toMatch(
      /resolved state fails \(exit 127\); its last output: bash: line 3: python2: command not found/,
    );
    const hung = decideBaseline(undefined, run(137, "", { timedOut: true }), opts);
    expect(hung.reasons.join()).toMatch(
      /the resolved state was cut short \(timed out after 20s\); its last output: it printed nothing/,
    );
    const gone = decideBaseline(run(0, "", { testbedGone: true }), run(0, ""), opts);
    expect(gone.reasons).toContain("the verifier deleted /testbed");
  });

  it("with our nonce markers: a run without them is cut short, and exit 0 over failing tests is broken", () => {
    const section = (body: string) => `${MARK.testStart("n0nce")}\n${body}\n${MARK.testEnd("n0nce")}\n`;
    const o = { markers: true, parser: "pytest", timeoutMs: 1000 };
    expect(decideBaseline(run(1, "no markers"), run(0, "no markers"), o).reasons.join()).toMatch(/cut short/);
    const lying = decideBaseline(run(1, section("FAILED t.py::a")), run(0, section("FAILED t.py::a")), o);
    expect(lying.reasons.join()).toMatch(/exits 0 while its own output shows failing tests \(t.py::a\)/);
    const good = decideBaseline(
      run(1, section("FAILED t.py::a\nPASSED t.py::b")),
      run(0, section("PASSED t.py::a\nPASSED t.py::b")),
      o,
    );
    expect(good).toMatchObject({ ok: true, FAIL_TO_PASS: ["t.py::a"], PASS_TO_PASS: ["t.py::b"] });
  });

  it("a foreign verifier's 127 is its own failure; ours is cut short", () => {
    expect(exitJudge({ markers: false })(run(127, ""), 1000)).toEqual({ passed: false, detail: "exit 127" });
    expect(exitJudge({ markers: true })(run(127, ""), 1000).inconclusive).toMatch(/exit 127/);
    expect(
      logJudge({ parser: "pytest", FAIL_TO_PASS: [], PASS_TO_PASS: [] })(run(137, ""), 1000).inconclusive,
    ).toMatch(/killed/);
  });
});

const v = (
  check: string,
  passed: boolean,
  kind: CheckVerdict["kind"] = "dynamic",
  reasons: string[] = [],
): CheckVerdict => ({
  check,
  kind,
  passed,
  reasons: reasons.length ? reasons : [passed ? "ok" : `${check} fired`],
});
const okBaseline = { ok: true, markers: false, FAIL_TO_PASS: [], PASS_TO_PASS: [], reasons: [] };

describe("the audit's verdict", () => {
  it("decisive static rules decide alone; evidence rules do not", () => {
    expect(decide({ verdicts: [v("static:gold-patch", false, "static")], skipped: [] }, {}, []).verdict).toBe(
      "hacked",
    );
    expect(
      decide({ verdicts: [v("static:reads-source", false, "static")], skipped: [] }, {}, []).verdict,
    ).toBe("suspect");
    const honest = decide(
      {
        verdicts: [v("static:reads-source", false, "static"), v("baseline", true), v("comment-probe", true)],
        skipped: [],
      },
      { baseline: okBaseline },
      [],
    );
    expect(honest.verdict).toBe("honest");
    expect(honest.evidence).toEqual([
      { check: "static:reads-source", reasons: ["static:reads-source fired"], confirmed_by: [] },
    ]);
  });

  it("a behaviour probe decides, and bears out the evidence it tests", () => {
    const r = decide(
      {
        verdicts: [v("static:reads-source", false, "static"), v("baseline", true), v("comment-probe", false)],
        skipped: [],
      },
      { baseline: okBaseline },
      [],
    );
    expect(r.verdict).toBe("hacked");
    expect(r.evidence[0]!.confirmed_by).toEqual(["comment-probe"]);
  });

  it("a broken baseline is broken, not hacked; probes failing only closed are broken too", () => {
    const broken = { ...okBaseline, ok: false, reasons: ["the buggy state passes"] };
    expect(decide({ verdicts: [v("baseline", false)], skipped: [] }, { baseline: broken }, [])).toMatchObject(
      {
        verdict: "broken",
        because: ["the buggy state passes"],
      },
    );
    const closed = v("poison-probe", false, "dynamic", [
      "inconclusive twice (timed out after 5s): the probe fails closed",
    ]);
    expect(
      decide({ verdicts: [v("baseline", true), closed], skipped: [] }, { baseline: okBaseline }, []).verdict,
    ).toBe("broken");
  });

  it("a file whose revert it passes decides together with static evidence of reading another fix file", () => {
    const reads = v("static:reads-source", false, "static", ["line 3: grep reads source file a.py"]);
    const e = { baseline: okBaseline, unneeded: [{ path: "b.py", detail: "exit 0" }] };
    const r = decide({ verdicts: [reads, v("baseline", true)], skipped: [] }, e, ["a.py", "b.py"]);
    expect(r.verdict).toBe("hacked");
    expect(r.because[0]).toMatch(/passes with b.py reverted, while it reads a.py/);
    expect(decide({ verdicts: [v("baseline", true)], skipped: [] }, e, ["a.py", "b.py"]).verdict).toBe(
      "honest",
    );
  });
});
