import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../src/mine/errors.ts";
import { GitRepo } from "../../src/mine/git.ts";
import { GitHubSource } from "../../src/mine/github-source.ts";
import { mine } from "../../src/mine/mine.ts";
import type { Candidate } from "../../src/records/candidate.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.ts";
import type { TestRepo } from "./helpers.ts";
import { tempDir } from "./helpers.ts";
import { buildSampleRepo } from "./sample-repo.ts";

describe("GitHub source against a local API server", () => {
  let repo: TestRepo;
  let fake: FakeGitHub;
  let clone: GitRepo;
  let prs: Record<number, string>;

  beforeAll(async () => {
    const built = buildSampleRepo();
    repo = built.repo;
    prs = built.prs;
    const second = (sha: string) => repo.git("rev-parse", `${sha}^2`);
    fake = await startFakeGitHub({
      base: built.base,
      pr1: prs[1]!,
      "pr1^2": second(prs[1]!),
      pr2: prs[2]!,
      pr11: prs[11]!,
      "pr11^2": second(prs[11]!),
    });
    clone = await GitRepo.open(repo.dir);
  });
  afterAll(async () => {
    await clone.close();
    await fake.close();
    repo.remove();
  });

  const source = (cacheDir: string, extra = {}) =>
    new GitHubSource({
      repo: "acme/sample",
      clone,
      baseUrl: fake.url,
      token: "test-token",
      cacheDir,
      retries: 2,
      retryBaseMs: 5,
      ...extra,
    });

  it("lists merged PRs with files, closing issues and bases, through a rate limit and a 5xx", async () => {
    fake.requests.length = 0;
    fake.failures = { "pulls-1": ["rate-limit"], "files-11-1": ["server-error"] };
    const runDir = tempDir("sweu-gh-");
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    try {
      const summary = await mine(source(join(runDir, "github-cache")), store);
      expect(summary).toMatchObject({ listed: 5, tasks: 2 });
      const reasons = Object.fromEntries(store.listRejections().map((r) => [r.number, r.reason]));
      expect(reasons).toEqual({ 2: "no_test_change", 12: "not_merged", 13: "no_base_commit" });

      const c11 = store.getCandidate("acme__sample-11")!;
      expect(c11).toMatchObject({
        source: "github",
        merge_style: "merge",
        base_commit: repo.git("rev-parse", `${prs[11]}^1`),
      });
      expect(c11.changed_files.map((f) => [f.path, f.status, f.kind])).toEqual([
        ["src/application.py", "renamed", "code"],
        ["tool.sh", "type_changed", "code"],
        ["win.py", "modified", "code"],
        ["tests/test_app.py", "modified", "test"],
      ]);
      expect(c11.linked_issues).toEqual([
        {
          number: 30,
          title: "Script is not executable",
          body: "Running ./tool.sh fails with permission denied.",
          closing: true,
        },
      ]);
      const t11 = store.getTask("acme__sample-11")!;
      expect(t11.problem_statement_source).toBe("issue");
      expect(t11.problem_statement).toMatch(/^Script is not executable\n\nRunning/);
      expect(store.getTask("acme__sample-1")!.problem_statement).toMatch(/^f2 returns the wrong value/);

      const c2 = store.getCandidate("acme__sample-2")!;
      expect(c2).toMatchObject({ merge_style: "squash", base_commit: repo.git("rev-parse", `${prs[2]}^`) });
      // #50 is linked only through GitHub (the timeline's cross-reference from an issue closed by the merge):
      // it becomes the problem statement, and its comments written before the PR opened are the hints.
      expect(c2.linked_issues).toEqual([
        { number: 21, title: "", body: "", closing: false },
        {
          number: 50,
          title: "f3 is slow on large inputs",
          body: "Calling f3 in a loop takes seconds.",
          closing: true,
        },
        { number: 51, title: "", body: "", closing: false },
      ]);
      const t2 = store.getTask("acme__sample-2")!;
      expect(t2.problem_statement).toBe("f3 is slow on large inputs\n\nCalling f3 in a loop takes seconds.");
      expect(t2.problem_statement_source).toBe("issue");
      expect(t2.hints_text).toBe("Probably the addition order in f3.\nIt happens with 3 + x too.");
      expect(c2.hints_text).toBe(t2.hints_text);
      expect(t11.hints_text).toBe("The mode bit is missing in git.");
      expect(store.getTask("acme__sample-1")!.hints_text).toBe("");
      expect(store.getCandidate("acme__sample-13")!.merge_style).toBe("api");

      const statuses = fake.requests.map((r) => `${r.route}:${r.status}`);
      expect(statuses.slice(0, 2)).toEqual(["pulls-1:403", "pulls-1:200"]);
      expect(statuses).toContain("files-11-1:502");
      expect(statuses).toContain("files-11-2:200");
      expect(statuses).not.toContain("issue-21:200");
      expect(statuses).toContain("timeline-2:200");
      expect(statuses).toContain("comments-50:200");
      expect(statuses.filter((r) => r.startsWith("comments-51"))).toEqual([]); // mentions: no comments
      expect(fake.requests.every((r) => r.headers.authorization === "token test-token")).toBe(true);
    } finally {
      store.close();
    }
  });

  it("sends cached ETags and reuses the cached bodies on 304", async () => {
    const cacheDir = join(tempDir("sweu-gh-"), "github-cache");
    const list = async () => {
      const out: Candidate[] = [];
      for await (const c of source(cacheDir).listCandidates()) out.push(c);
      return out;
    };
    fake.failures = {};
    fake.requests.length = 0;
    const first = await list();
    expect(fake.requests.every((r) => r.status === 200 && !r.headers["if-none-match"])).toBe(true);
    const n = fake.requests.length;
    fake.requests.length = 0;
    const second = await list();
    expect(second).toEqual(first);
    expect(fake.requests).toHaveLength(n);
    expect(fake.requests.every((r) => r.status === 304 && r.headers["if-none-match"])).toBe(true);
  });

  it("--limit counts merged PRs; closed-unmerged ones met on the way are listed, not counted", async () => {
    fake.failures = {};
    const numbers: number[] = [];
    for await (const c of source(join(tempDir("sweu-gh-"), "c")).listCandidates({ limit: 3 })) {
      numbers.push(c.number);
    }
    expect(numbers).toEqual([13, 11, 12, 2]);
  });

  it("keeps the PRs finished before a page fails for good; the rerun skips them", async () => {
    const runDir = tempDir("sweu-gh-");
    const cache = join(runDir, "github-cache");
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    try {
      fake.failures = { "pulls-2": ["server-error", "server-error", "server-error"] };
      await expect(mine(source(cache), store)).rejects.toMatchObject({ kind: "unavailable" });
      expect(store.listCandidates().map((c) => c.number)).toEqual([11, 13]);
      expect(store.outcome("acme__sample-11")).toBe("task");
      expect(store.getRejection("acme__sample-13")?.reason).toBe("no_base_commit");
      fake.failures = {};
      fake.requests.length = 0;
      const rerun = await mine(source(cache), store);
      expect(rerun).toMatchObject({ listed: 3, skipped: 2 });
      // Skipped before any work: no files, issue or timeline call for #11 and #13.
      expect(fake.requests.map((r) => r.route).filter((r) => /-1[13](-|$)/.test(r))).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("waits out secondary rate limits and honours a 429's retry-after", async () => {
    fake.failures = { "pulls-1": ["secondary-403"], "pulls-2": ["429"] };
    fake.requests.length = 0;
    const out: number[] = [];
    const src = source(join(tempDir("sweu-gh-"), "c"), { retryBaseMs: 100 });
    for await (const c of src.listCandidates()) out.push(c.number);
    expect(out).toEqual([13, 11, 12, 2, 1]);
    const pulls = fake.requests.filter((r) => r.route.startsWith("pulls-"));
    expect(pulls.map((r) => `${r.route}:${r.status}`)).toEqual([
      "pulls-1:403",
      "pulls-1:200",
      "pulls-2:429",
      "pulls-2:200",
    ]);
    // retry-after: 1 → 1 × 100 ms; retry-after: 5 → 500 ms (a blind back-off would wait 100 ms).
    expect(pulls[1]!.at - pulls[0]!.at).toBeGreaterThanOrEqual(95);
    expect(pulls[3]!.at - pulls[2]!.at).toBeGreaterThanOrEqual(490);
  });

  it("raises a clear unavailable error when retries are exhausted or the reset is too far", async () => {
    const expectUnavailable = async (failures: FakeGitHub["failures"], extra = {}) => {
      fake.failures = failures;
      try {
        for await (const _ of source(join(tempDir("sweu-gh-"), "c"), extra).listCandidates()) {
          // drain
        }
      } catch (e) {
        expect(e).toBeInstanceOf(SourceError);
        expect((e as SourceError).kind).toBe("unavailable");
        return (e as Error).message;
      }
      throw new Error("expected an error");
    };
    expect(await expectUnavailable({ "pulls-1": ["server-error", "server-error", "server-error"] })).toMatch(
      /502/,
    );
    expect(await expectUnavailable({ "pulls-1": ["rate-limit-long"] }, { maxRateLimitWait: 60 })).toMatch(
      /^GitHub API rate limit \(403\)\. GitHub asks to wait 3\d{3} s\..*run the same command again later/,
    );
    // Waits longer than the maximum fail at once with the rate-limit sentence, not a generic HTTP error.
    const started = Date.now();
    expect(await expectUnavailable({ "pulls-1": ["secondary-long"] }, { maxRateLimitWait: 60 })).toMatch(
      /^GitHub API secondary rate limit \(403\)\. GitHub asks to wait 3600 s\./,
    );
    expect(await expectUnavailable({ "pulls-1": ["429-long"] }, { maxRateLimitWait: 60 })).toMatch(
      /^GitHub API 429 Too Many Requests \(429\)\. GitHub asks to wait 3600 s\./,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fake.failures["pulls-1"]).toEqual([]);
    const down = new GitHubSource({ repo: "acme/sample", baseUrl: "http://127.0.0.1:9", retries: 0 });
    await expect(down.listCandidates()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      kind: "unavailable",
    });
    const missing = new GitHubSource({ repo: "acme/missing", baseUrl: fake.url, retries: 0 });
    await expect(missing.listCandidates()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      kind: "input",
    });
  });
});
