import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportRun } from "../../src/export/index.ts";
import { OpenAIModel } from "../../src/model/openai.ts";
import type { Instance, SyntheticCandidate } from "../../src/records/index.ts";
import { synthReport } from "../../src/synth/report.ts";
import { synthesize } from "../../src/synth/synth.ts";
import { e2eSandbox, goldAndEmpty, runRepo } from "../helpers/e2e-run.ts";
import { FakeOpenAI } from "../helpers/fake-openai.ts";
import { TestRepo } from "../helpers/repos.ts";

const OPS = (withHigh: boolean) =>
  [
    "def add(a, b):",
    "    return a + b",
    "",
    "",
    "def sub(a, b):",
    "    return a + b",
    "",
    "",
    "def clamp(x, lo, hi):",
    "    if x < lo:",
    "        return lo",
    // The first check is redundant (removing it changes nothing); reverting the commit removes both.
    ...(withHigh ? ["    if x == hi:", "        return hi", "    if x > hi:", "        return hi"] : []),
    "    return x",
    "",
    "",
    "def spin(n):",
    "    i = n",
    "    while i != 0:",
    "        i -= 1",
    "    return n",
    "",
    "",
    "def unused(x):",
    "    return x * 3 + 1",
    "",
    "",
    "def _table():",
    '    t = {"one": 1, "two": 2}',
    "    return t",
    "",
    "",
    "NAMES = _table()",
    'ONE = NAMES["one"]',
    "",
  ].join("\n");

const TESTS = (withHigh: boolean, withSub: boolean) =>
  [
    "from calc.ops import add, clamp, sub",
    "",
    "",
    "def test_add():",
    "    assert add(2, 3) == 5",
    "",
    "",
    "def test_clamp_low():",
    "    assert clamp(-5, 0, 10) == 0",
    "",
    "",
    "def test_clamp_inside():",
    "    assert clamp(5, 0, 10) == 5",
    ...(withHigh ? ["", "", "def test_clamp_high():", "    assert clamp(50, 0, 10) == 10"] : []),
    ...(withSub ? ["", "", "def test_sub():", "    assert sub(5, 3) == 2"] : []),
    "",
  ].join("\n");

/**
 * A tiny calc package: clamp learns its upper bound in a commit before the PR (history for reversion and
 * hunk removal), spin hangs when its constants change, _table runs at import (its removal breaks every
 * import), unused is tested by nothing; PR #3 fixes sub with a test in tests/test_ops.py, and
 * tests/test_spin.py is not the PR's (the widened selection runs it).
 */
function synthProject(): TestRepo {
  const r = new TestRepo("sweu-synth-");
  r.commit("Initial calc package", {
    "pyproject.toml": [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "",
      "[project]",
      'name = "calc"',
      'version = "0.1.0"',
      "",
    ].join("\n"),
    "calc/__init__.py": "",
    "calc/ops.py": OPS(false),
    "tests/__init__.py": "",
    "tests/test_ops.py": TESTS(false, false),
    "tests/test_spin.py": [
      "from calc.ops import spin",
      "",
      "",
      "def test_spin():",
      "    assert spin(3) == 3",
      "",
      "",
      "def test_spin_zero():",
      "    assert spin(0) == 0",
      "",
    ].join("\n"),
  });
  r.commit("clamp: apply the upper bound too", {
    "calc/ops.py": OPS(true),
    "tests/test_ops.py": TESTS(true, false),
  });
  r.mergePr(3, "fix-sub", "Fix sub", "sub added instead of subtracting.", [
    {
      "calc/ops.py": OPS(true).replace(
        "def sub(a, b):\n    return a + b",
        "def sub(a, b):\n    return a - b",
      ),
      "tests/test_ops.py": TESTS(true, true),
    },
  ]);
  return r;
}

const sandbox = e2eSandbox();
const fakes: FakeOpenAI[] = [];
afterAll(async () => {
  for (const f of fakes) await f.close();
});

describe("synth: synthetic bugs in a built environment", () => {
  it("keeps bugs that validate (gold resolves, empty does not), names the bad ones, and exports them beside the PR's", async () => {
    const repo = synthProject();
    const { runDir, store, summary } = await runRepo(sandbox, repo.dir);
    expect(summary.instances).toBe(1);
    const [pr] = store.listInstances();
    // The model: one broken rewrite (llm-rewrite), then plain answers (problem statements).
    // (A request forcing the rewrite tool is answered from its own script, toolTurns.rewrite.)
    const fake = await FakeOpenAI.start([], {
      toolTurns: {
        rewrite: [
          {
            calls: [
              {
                name: "rewrite",
                arguments: { code: "def clamp(x, lo, hi)\n    return x", bug: "drops the bounds" },
              },
            ],
          },
        ],
      },
      whenDone: { content: "Some results of the calc helpers are wrong for ordinary inputs." },
    });
    fakes.push(fake);
    const model = new OpenAIModel({ model: "fake", baseURL: fake.url, apiKey: "x", maxRetries: 0 });
    const s = await synthesize(store, sandbox, {
      sandbox,
      runsPerState: 2,
      perStrategy: 10,
      loadProbeCpus: 0.5,
      testTimeoutMs: 120_000,
      model,
    });
    const records: SyntheticCandidate[] = store.listSynthetic();
    const reasons = records.filter((r) => r.reason).map((r) => `${r.strategy}:${r.reason}`);
    expect(s.environments, JSON.stringify(s.environments)).toHaveLength(1);
    expect(s.environments[0]!.ok, s.environments[0]!.detail).toBe(true);
    // The widened selection runs the test file the PR did not touch.
    expect(s.environments[0]!.detail).toMatch(/3 test files/);
    for (const r of ["mutation_no_effect", "mutation_hangs", "mutation_uncompilable", "mutation_unparsable"])
      expect(
        reasons.some((x) => x.endsWith(`:${r}`)),
        `${r} in ${reasons.join(", ")}`,
      ).toBe(true);
    expect(reasons).toContain("change-constant:mutation_hangs");
    expect(reasons).toContain("llm-rewrite:mutation_unparsable");
    expect(reasons).toContain("remove-body:mutation_uncompilable");
    const synthetic = store.listInstances().filter((i) => i.source === "synthetic");
    const kept = synthetic.map((i) => `${i.synthetic!.strategy}:${i.FAIL_TO_PASS.join("+")}`).join(", ");
    const why = `rejected: ${reasons.join(", ")}; kept: ${kept}`;
    expect(synthetic.length, why).toBeGreaterThanOrEqual(3);
    expect(synthetic[0]!.evaluation_script).toContain("tests/test_ops.py tests/test_spin.py");
    // Removing clamp's `x > hi` check (one of the two its last commit added; the seeded pick) fails
    // test_clamp_high; reverting that commit (both checks: another patch) fails the same test, so the
    // revert (tried later in the table's order) is a duplicate.
    const hunk = synthetic.find((i) => i.synthetic!.strategy === "remove-hunk");
    expect(hunk?.FAIL_TO_PASS, why).toEqual(["tests/test_ops.py::test_clamp_high"]);
    expect(reasons, why).toContain("history-revert:duplicate_failing_tests");
    // No two share their failing tests.
    const sets = synthetic.map((i) => JSON.stringify(i.FAIL_TO_PASS));
    expect(new Set(sets).size).toBe(sets.length);
    // Gold and empty through `evaluate` for one of them (the gate has run every one's gold state already).
    for (const [n, inst] of synthetic.entries())
      await expectHonest(repo, inst, records.find((r) => r.id === inst.instance_id)!, n === 0);
    exportRun(store, runDir);
    // One dataset: the PR's row and the synthetic ones, told apart by `source`.
    const rows = readFileSync(join(runDir, "dataset.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.find((r) => r.instance_id === pr!.instance_id)?.source).toBe("pr");
    expect(rows.filter((r) => r.source === "synthetic")).toHaveLength(synthetic.length);
    expect(JSON.parse(rows.find((r) => r.source === "synthetic")!.synthetic!)).toMatchObject({
      source_instance: pr!.instance_id,
      source_commit: pr!.base_commit,
    });
    const report = synthReport(store);
    expect(report.totals[0]!.tried).toBe(records.length);
    expect(report.totals[0]!.valid).toBe(synthetic.length);
    expect(report.totals[0]!.cpu_minutes_per_valid).toBeGreaterThan(0);
    expect(
      report.rows.find((r) => r.strategy === "change-constant")?.rejections.mutation_hangs,
    ).toBeGreaterThan(0);
    // A rerun finds every candidate done and tries none again.
    const again = await synthesize(store, sandbox, {
      sandbox,
      runsPerState: 2,
      perStrategy: 10,
      loadProbeCpus: 0.5,
      model,
    });
    expect(again.tried).toBe(0);
  }, 2_400_000);
});

/** A synthetic instance as the contract wants it: the bug in /testbed, no history of the fix, gold resolves. */
async function expectHonest(
  repo: TestRepo,
  inst: Instance,
  rec: SyntheticCandidate,
  evaluate: boolean,
): Promise<void> {
  expect(inst.test_patch).toBe("");
  expect(inst.FAIL_TO_PASS.length).toBeGreaterThan(0);
  expect(inst.PASS_TO_PASS.length).toBeGreaterThan(0);
  expect(inst.problem_statement_source).toBe("model");
  expect(inst.synthetic!.changed_lines).toBe(rec.changed_lines);
  expect(inst.checks.find((c) => c.check === "synth-inverse-mutation")?.passed).toBe(true);
  // The gold patch is the bug reversed: its removed lines are the bug's added ones.
  const side = (p: string, c: string) =>
    p
      .split("\n")
      .filter((l) => l.startsWith(c) && !l.startsWith(`${c}${c}${c} `))
      .map((l) => l.slice(1));
  expect(side(inst.patch, "-")).toEqual(side(rec.bug_patch, "+"));
  expect(side(inst.patch, "+")).toEqual(side(rec.bug_patch, "-"));
  const c = await sandbox.start({ image: inst.image, network: false });
  try {
    // The changed file as it was at the environment's commit (the fix) is no object of the repository.
    const path = rec.files[0]!;
    const blob = repo.git("rev-parse", `${inst.synthetic!.source_commit}:${path}`);
    const r = await c.exec(
      [
        "cd /testbed",
        "git rev-list --all | wc -l",
        "git rev-parse HEAD",
        "git status --porcelain | wc -l",
        `git cat-file -e ${blob} 2>/dev/null && echo leak || echo clean`,
      ].join(" && "),
    );
    const [commits, head, dirty, found] = r.output.trim().split("\n");
    expect([commits, head, dirty, found]).toEqual(["1", inst.base_commit, "0", "clean"]);
  } finally {
    await c.remove();
  }
  if (!evaluate) return;
  const { gold, empty } = await goldAndEmpty(sandbox, inst);
  expect(gold.resolved, JSON.stringify(gold)).toBe(true);
  expect(empty.resolved).toBe(false);
}
