import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { mine } from "../../src/mine/mine.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import type { TestRepo } from "./helpers.ts";
import { tempDir } from "./helpers.ts";
import { buildSampleRepo, EXPECTED } from "./sample-repo.ts";

describe("mine stage on a real repository", () => {
  let repo: TestRepo;
  let prs: Record<number, string>;
  let runDir: string;

  beforeAll(() => {
    ({ repo, prs } = buildSampleRepo());
    runDir = tempDir("sweu-mine-run-");
  });
  afterAll(() => repo.remove());

  const open = async (name: string) => {
    const source = await GitSource.open(repo.dir, { repoName: "acme/sample" });
    const store = new SqliteStore(join(runDir, name, "store.sqlite"));
    return { source, store };
  };

  it("turns every merged PR into a task or a named rejection", async () => {
    const { source, store } = await open("full");
    try {
      const summary = await mine(source, store, { maxFiles: 5 });
      expect(summary.listed).toBe(11);
      for (const [n, want] of Object.entries(EXPECTED)) {
        const id = `acme__sample-${n}`;
        const got = store.getRejection(id)?.reason ?? (store.getTask(id) ? "task" : "none");
        expect(`#${n} ${got}`).toBe(`#${n} ${want}`);
        expect(store.getCandidate(id)?.resolved_commit).toBe(prs[Number(n)]);
      }
      // The PR without tests is kept as a task needing generated tests.
      expect(store.getTask("acme__sample-2")).toMatchObject({ needs_generated_tests: true, test_patch: "" });
      expect(summary.tasks).toBe(3);
    } finally {
      await source.close();
      store.close();
    }
  });

  it("splits code and tests, records issues, styles and languages", async () => {
    const store = new SqliteStore(join(runDir, "full", "store.sqlite"));
    try {
      const t1 = store.getTask("acme__sample-1")!;
      expect(t1).toMatchObject({
        language: "python",
        code_files: ["src/app.py"],
        test_files: ["tests/test_app.py"],
        problem_statement_source: "pr",
      });
      expect(t1.problem_statement).toContain("Fix f2 off by one");
      const c1 = store.getCandidate("acme__sample-1")!;
      expect(c1.merge_style).toBe("merge");
      expect(c1.linked_issues).toEqual([
        { number: 20, title: "", body: "", closing: true },
        { number: 21, title: "", body: "", closing: false },
      ]);
      expect(store.getCandidate("acme__sample-2")!.merge_style).toBe("squash");
      // Rust: the lib.rs change lies inside #[cfg(test)] → test; other.rs → code.
      expect(store.getTask("acme__sample-10")).toMatchObject({
        language: "rust",
        test_files: ["src/lib.rs"],
        code_files: ["src/other.rs"],
      });
      const t11 = store.getTask("acme__sample-11")!;
      expect(t11.code_files.sort()).toEqual(["src/application.py", "tool.sh", "win.py"]);
      expect(t11.patch).toContain("rename from src/app.py");
      expect(t11.patch).toContain("new mode 100755");
      expect(t11.patch).toContain("+b = 3\r\n");
      expect(
        store.getCandidate("acme__sample-11")!.changed_files.find((f) => f.path === "src/application.py"),
      ).toMatchObject({ status: "renamed", old_path: "src/app.py" });
    } finally {
      store.close();
    }
  });

  it("produces patch and test_patch that rebuild the resolved tree from the base", async () => {
    const store = new SqliteStore(join(runDir, "full", "store.sqlite"));
    try {
      for (const id of ["acme__sample-1", "acme__sample-10", "acme__sample-11"]) {
        const t = store.getTask(id)!;
        const p = join(runDir, "p.diff");
        const tp = join(runDir, "tp.diff");
        writeFileSync(p, t.patch);
        writeFileSync(tp, t.test_patch);
        repo.git("checkout", "-q", "--detach", t.base_commit);
        try {
          repo.git("apply", "--index", tp);
          repo.git("apply", "--index", p);
          expect(repo.git("write-tree")).toBe(repo.git("rev-parse", `${t.resolved_commit}^{tree}`));
        } finally {
          repo.git("reset", "-q", "--hard");
          repo.git("checkout", "-q", "main");
        }
      }
    } finally {
      store.close();
    }
  });

  it("resumes: a rerun skips recorded outcomes; an interrupted run leaves no candidate without outcome", async () => {
    const { source, store } = await open("resume");
    try {
      const first = await mine(source, store, { limit: 3, maxFiles: 5 });
      expect(first).toMatchObject({ listed: 3, skipped: 0 });
      const controller = new AbortController();
      const second = await mine(source, store, {
        maxFiles: 5,
        signal: controller.signal,
        onOutcome: () => controller.abort(),
      });
      expect(second).toMatchObject({ listed: 1, skipped: 3 });
      for (const c of store.listCandidates()) expect(["task", "rejected"]).toContain(store.outcome(c.id));
      const third = await mine(source, store, { maxFiles: 5 });
      expect(third).toMatchObject({ listed: 7, skipped: 4 });
      expect(store.funnel().candidates).toBe(11);
      const again = await mine(source, store, { maxFiles: 5 });
      expect(again).toMatchObject({ listed: 0, skipped: 11 });
    } finally {
      await source.close();
      store.close();
    }
  });
});
