import { afterEach, describe, expect, it } from "vitest";
import { assessQuality } from "../../src/mine/quality.ts";
import { OpenAIModel } from "../../src/model/openai.ts";
import type { Task } from "../../src/records/index.ts";
import { makeTask } from "../export/fixtures.ts";
import { call, FakeOpenAI } from "../helpers/fake-openai.ts";

const PATCH =
  "diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1 +1 @@\n-    return max(lo, x)\n+    return max(lo, min(x, hi))\n";
const TEST_PATCH =
  "diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n+++ b/tests/test_ops.py\n@@ -0,0 +1,2 @@\n+def test_clamp_high():\n+    assert clamp(50, 0, 10) == 10\n";

function task(title: string, over: Partial<Task> = {}): Task {
  return {
    ...makeTask(7),
    patch: PATCH,
    test_patch: TEST_PATCH,
    code_files: ["calc/ops.py"],
    test_files: ["tests/test_ops.py"],
    problem_statement: `${title}\n\nclamp(50, 0, 10) returns 50 where 10 is expected.`,
    pr_text: `${title}\n\nclamp(50, 0, 10) returns 50 where 10 is expected.`,
    ...over,
  };
}

describe("the PR quality filter's rules", () => {
  it("rejects a release PR by name before anything is built", async () => {
    const q = await assessQuality(task("Changes for version 11.0.0"));
    expect(q.rejection).toEqual({
      reason: "release_pr",
      detail: 'release: a release or branch-merge PR: "Changes for version 11.0.0"',
    });
  });

  it("scores the rest: size and spread of the fix, test code, the statement", async () => {
    const q = await assessQuality(task("clamp ignores its upper bound"));
    expect(q.rejection).toBeUndefined();
    expect(Object.fromEntries(q.quality.checks.map((c) => [c.check, c.score]))).toEqual({
      release: 1,
      fix_size: 1,
      fix_spread: 1,
      tests_exercise: 1,
      statement: 0.8,
    });
    expect(q.quality.score).toBe(0.96);
    const spread = await assessQuality(
      task("clamp ignores its upper bound", { code_files: ["a/x.py", "b/y.py", "c/z.py"], test_patch: "" }),
    );
    expect(spread.quality.checks.find((c) => c.check === "fix_spread")).toMatchObject({
      score: 0.5,
      detail: "code in 3 directories",
    });
    expect(spread.quality.checks.find((c) => c.check === "tests_exercise")?.score).toBe(0.5);
  });
});

describe("the PR quality filter's LLM checks, through the scripted OpenAI-protocol server", () => {
  const servers: FakeOpenAI[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  async function model(answers: Record<string, unknown>[]) {
    const server = await FakeOpenAI.start([], {
      toolTurns: { report_quality: answers.map((a) => call("report_quality", a)) },
    });
    servers.push(server);
    return { server, model: new OpenAIModel({ baseURL: server.url, model: "fake-judge", maxRetries: 0 }) };
  }

  it("records each verdict as a score, and names the rejection of one that scores 1 of 5", async () => {
    const { server, model: m } = await model([
      { problem_clear: 4, fix_self_contained: 5, tests_check_behaviour: 3, reasons: ["fine"] },
      {
        problem_clear: 1,
        fix_self_contained: 5,
        tests_check_behaviour: 5,
        reasons: ["the text says nothing"],
      },
    ]);
    const good = await assessQuality(task("clamp ignores its upper bound"), { model: m });
    expect(good.rejection).toBeUndefined();
    expect(good.quality.checks.filter((c) => c.kind === "llm").map((c) => [c.check, c.score])).toEqual([
      ["problem_clear", 0.75],
      ["fix_self_contained", 1],
      ["tests_check_behaviour", 0.5],
    ]);
    expect(good.quality.cost).toEqual({ prompt_tokens: 100, completion_tokens: 20, usd: 0 });
    const bad = await assessQuality(task("clamp ignores its upper bound"), { model: m });
    expect(bad.rejection).toMatchObject({
      reason: "unclear_problem",
      detail: expect.stringMatching(/^problem_clear: 1\/5/),
    });
    // The model saw the statement, the fix and the tests.
    const prompt = server.toolRequests.report_quality![0]!.messages.map((x) => x.content).join("\n");
    expect(prompt).toContain("min(x, hi)");
    expect(prompt).toContain("test_clamp_high");
  });

  it("a release PR is rejected by the rules without asking the model", async () => {
    const { server, model: m } = await model([]);
    const q = await assessQuality(task("Version 11.0.1"), { model: m });
    expect(q.rejection?.reason).toBe("release_pr");
    expect(server.toolRequests.report_quality).toBeUndefined();
  });
});
