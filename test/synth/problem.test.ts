import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { instanceToRow, rowToInstance } from "../../src/export/dataset.ts";
import { exportRun } from "../../src/export/index.ts";
import type { Instance, StateRun } from "../../src/records/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { failureMessages, revealsBug, templateWriter } from "../../src/synth/problem.ts";
import { renderSynthReport, synthReport } from "../../src/synth/report.ts";
import { makeInstance } from "../export/fixtures.ts";

const BUG = [
  "diff --git a/calc/ops.py b/calc/ops.py",
  "--- a/calc/ops.py",
  "+++ b/calc/ops.py",
  "@@ -1,2 +1,2 @@",
  " def clamp(x, lo, hi):",
  "-    return min(hi, max(lo, x))",
  "+    return max(lo, x)",
  "",
].join("\n");

const run = (log: string): StateRun => ({
  state: "buggy",
  exit_code: 1,
  timed_out: false,
  duration_ms: 10,
  tests: [],
  parsed: true,
  log_tail: log,
});

const LOG = [
  "tests/test_ops.py F.",
  "    def test_clamp_high():",
  ">       assert clamp(50, 0, 10) == 10",
  "E       assert 50 == 10",
  "calc/ops.py:2: in clamp",
  "    return max(lo, x)",
  "FAILED tests/test_ops.py::test_clamp_high - assert 50 == 10",
].join("\n");

describe("problem statements for synthetic bugs", () => {
  const input = {
    repo: "o/calc",
    language: "python",
    failing: ["tests/test_ops.py::test_clamp_high"],
    runs: [run(LOG)],
    bugPatch: BUG,
    files: ["calc/ops.py"],
  };

  it("the template names the failing tests and quotes their messages, never the bug's lines or files", async () => {
    const ps = await templateWriter.write(input);
    expect(ps.source).toBe("template");
    expect(ps.text).toContain("`tests/test_ops.py::test_clamp_high`");
    expect(ps.text).toContain("E       assert 50 == 10");
    expect(revealsBug(ps.text, input)).toBeUndefined();
    expect(ps.text).not.toContain("calc/ops.py");
    expect(ps.text).not.toContain("return max(lo, x)");
    expect(failureMessages(input)).not.toContain("calc/ops.py:2: in clamp");
  });

  it("says when a text shows the bug", () => {
    expect(revealsBug("the line `return min(hi, max(lo, x))` is wrong", input)).toMatch(/changed line/);
    expect(revealsBug("look at calc/ops.py", input)).toMatch(/changed file/);
    expect(revealsBug("clamp(50, 0, 10) returns 50", input)).toBeUndefined();
  });
});

describe("synthetic rows and the synth report", () => {
  it("a synthetic instance round-trips through its dataset row; a PR's row says pr", () => {
    const fixture = makeInstance({ instance_id: "acme__widgets-1" });
    const syn: Instance = {
      ...fixture,
      instance_id: "o__calc.synth.change-operator.abc",
      source: "synthetic",
      problem_statement_source: "template",
      synthetic: {
        strategy: "change-operator",
        changed_lines: 2,
        files: ["calc/ops.py"],
        symbols: ["clamp"],
        source_instance: fixture.instance_id,
        source_commit: fixture.base_commit,
      },
    };
    const row = instanceToRow(syn);
    expect(row.source).toBe("synthetic");
    expect(JSON.parse(row.synthetic).strategy).toBe("change-operator");
    expect(rowToInstance(JSON.parse(JSON.stringify(row)))).toEqual(syn);
    const pr = instanceToRow(fixture);
    expect([pr.source, pr.synthetic]).toEqual(["pr", ""]);
    expect(rowToInstance(pr)).toEqual(fixture);
  });

  it("counts tried, valid, reasons and CPU per strategy, and keeps synthetic instances out of the PR funnel", () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-synth-report-"));
    const store = new SqliteStore(join(dir, "store.sqlite"));
    const fixture = makeInstance({ instance_id: "acme__widgets-1" });
    store.putInstance(fixture);
    const base = {
      repo: fixture.repo,
      environment_key: "k",
      source_instance: fixture.instance_id,
      files: ["calc/ops.py"],
      symbols: ["clamp"],
      note: "",
      bug_patch: BUG,
      detail: "",
      cpu_measured: true,
      at: new Date().toISOString(),
    };
    store.putSynthetic({
      ...base,
      id: "a",
      strategy: "change-operator",
      outcome: "instance",
      changed_lines: 2,
      cpu_ms: 60_000,
      wall_ms: 1000,
    });
    store.putSynthetic({
      ...base,
      id: "b",
      strategy: "change-operator",
      outcome: "rejected",
      reason: "mutation_no_effect",
      changed_lines: 2,
      cpu_ms: 30_000,
      wall_ms: 3000,
    });
    store.putSynthetic({
      ...base,
      id: "c",
      strategy: "remove-body",
      outcome: "rejected",
      reason: "mutation_hangs",
      changed_lines: 9,
      cpu_ms: 30_000,
      wall_ms: 2000,
    });
    store.setMeta(
      `synth:baseline:${fixture.instance_id}`,
      JSON.stringify({ cost: { cpu_ms: 60_000, measured: true } }),
    );
    store.putInstance({ ...fixture, instance_id: "a", source: "synthetic" });
    const r = synthReport(store);
    expect(r.rows.map((x) => [x.strategy, x.tried, x.valid, x.yield])).toEqual([
      ["change-operator", 2, 1, 0.5],
      ["remove-body", 1, 0, 0],
    ]);
    expect(r.rows[1]!.rejections).toEqual({ mutation_hangs: 1 });
    expect(r.totals[0]).toMatchObject({
      tried: 3,
      valid: 1,
      cpu_minutes_per_valid: 3,
      wall_seconds_per_tried: 2,
      language: fixture.language,
      median_changed_lines: 2,
    });
    expect(renderSynthReport(r)).toContain(
      "| change-operator | 2 | 1 | 50% | 2 | 1.5 | 2 | mutation_no_effect 1 |",
    );
    const f = store.funnel();
    expect([f.instances, f.synthetic]).toEqual([1, 1]);
    const exported = exportRun(store, dir);
    expect(exported.funnel.instances).toBe(1);
    expect(exported.funnel.synthetic).toBe(1);
    store.close();
  });
});
