import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { computeUniverseReport, renderUniverseMarkdown } from "../../src/export/universe-report.ts";
import type { Candidate, Rejection, Task } from "../../src/records/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { makeInstance } from "../export/fixtures.ts";

const sha = (c: string) => c.repeat(40);

function candidate(n: number, repo = "acme/widgets"): Candidate {
  return {
    id: `${repo.replace("/", "__")}-${n}`,
    repo,
    number: n,
    title: `PR ${n}`,
    body: "",
    merged: true,
    created_at: "2026-01-01T00:00:00Z",
    merged_at: "2026-01-02T00:00:00Z",
    base_commit: sha("a"),
    resolved_commit: sha("b"),
    linked_issues: [],
    changed_files: [],
    languages: ["python"],
    source: "git",
    merge_style: "merge",
  };
}

function task(n: number, repo = "acme/widgets"): Task {
  return {
    instance_id: `${repo.replace("/", "__")}-${n}`,
    repo,
    number: n,
    base_commit: sha("a"),
    resolved_commit: sha("b"),
    created_at: "2026-01-01T00:00:00Z",
    patch: "diff --git a/x.py b/x.py\n",
    test_patch: "diff --git a/test_x.py b/test_x.py\n",
    problem_statement: "x is wrong",
    problem_statement_source: "pr",
    hints_text: "",
    language: "python",
    languages: ["python"],
    test_files: ["test_x.py"],
    code_files: ["x.py"],
    other_files: [],
    needs_generated_tests: false,
  };
}

function rejection(id: string, reason: Rejection["reason"] = "no_test_change"): Rejection {
  return {
    id,
    repo: "acme/widgets",
    number: 1,
    stage: "mine",
    reason,
    detail: "",
    at: "2026-01-01T00:00:00Z",
  };
}

describe("SqliteStore", () => {
  it("persists records across reopen, in WAL mode, and upserts idempotently", () => {
    const path = join(mkdtempSync(join(tmpdir(), "sweu-store-")), "store.sqlite");
    const a = new SqliteStore(path);
    a.putCandidate(candidate(1));
    a.putCandidate(candidate(1));
    a.putTask(task(1));
    a.close();
    const b = new SqliteStore(path);
    expect(b.listCandidates()).toHaveLength(1);
    expect(b.getTask("acme__widgets-1")?.problem_statement).toBe("x is wrong");
    expect(b.outcome("acme__widgets-1")).toBe("task");
    expect(b.outcome("nope")).toBeUndefined();
    b.close();
  });

  it("refuses records that do not match their schema", () => {
    const s = new SqliteStore(":memory:");
    expect(() => s.putCandidate({ ...candidate(1), base_commit: "abc" })).toThrow(/40-hex/);
    expect(s.listCandidates()).toHaveLength(0);
  });

  it("keeps one ending per candidate: rejection and instance replace each other", () => {
    const s = new SqliteStore(":memory:");
    s.putTask(task(1));
    s.putRejection(rejection("acme__widgets-1", "resolved_fails"));
    expect(s.outcome("acme__widgets-1")).toBe("rejected");
    s.deleteRejection("acme__widgets-1");
    expect(s.outcome("acme__widgets-1")).toBe("task");
  });

  it("counts the funnel by repo, stage, reason and language", () => {
    const s = new SqliteStore(":memory:");
    for (const n of [1, 2, 3]) s.putCandidate(candidate(n));
    s.putCandidate(candidate(9, "other/repo"));
    s.putTask(task(1));
    s.putRejection({ ...rejection("acme__widgets-2"), number: 2 });
    s.putRejection({ ...rejection("acme__widgets-3", "too_large"), number: 3 });
    const f = s.funnel("acme/widgets");
    expect(f.candidates).toBe(3);
    expect(f.tasks).toBe(1);
    expect(f.rejections).toEqual([
      { stage: "mine", reason: "no_test_change", count: 1 },
      { stage: "mine", reason: "too_large", count: 1 },
    ]);
    expect(f.languages).toEqual([{ language: "python", tasks: 1, instances: 0 }]);
    expect(f.needs_tests).toBe(0);
    // A PR without tests is kept as a task for a test-writing builder, with a mine-stage rejection:
    // it counts apart from buildable tasks.
    s.putTask(task(2));
    const g = s.funnel("acme/widgets");
    expect([g.tasks, g.needs_tests, g.pending]).toEqual([1, 1, 1]);
    s.putRejection({ ...rejection("acme__widgets-1", "resolved_fails"), stage: "build" });
    expect(s.funnel("acme/widgets").pending).toBe(0);
    expect(s.funnel().candidates).toBe(4);
  });

  it("counts a repository's synthetic instances apart from its PRs' (built, instances, yield)", () => {
    const s = new SqliteStore(":memory:");
    s.putCandidate(candidate(1));
    s.putTask(task(1));
    s.putInstance(makeInstance({ instance_id: "acme__widgets-1" }));
    for (const k of ["a", "b"])
      s.putInstance(
        makeInstance({ instance_id: `acme__widgets.synth.remove-body.${k}`, source: "synthetic" }),
      );
    expect(s.repoCounts()).toMatchObject([{ repo: "acme/widgets", instances: 1, synthetic: 2, failed: 0 }]);
    const r = computeUniverseReport(s);
    expect(r.repositories[0]).toMatchObject({ built: 1, instances: 1, synthetic: 2, yield: 1 });
    expect(r.distributions.wall_s).toHaveLength(1);
    expect(renderUniverseMarkdown(r)).toMatch(/\| acme\/widgets \|.*\| 1 \| 1 \| 100\.0% \| 2 \|/);
    s.close();
  });

  it("rolls back a transaction that throws", () => {
    const s = new SqliteStore(":memory:");
    expect(() =>
      s.transaction(() => {
        s.putCandidate(candidate(1));
        throw new Error("crash mid-candidate");
      }),
    ).toThrow("crash");
    expect(s.listCandidates()).toHaveLength(0);
    s.setMeta("k", "v");
    expect(s.getMeta("k")).toBe("v");
  });
});
