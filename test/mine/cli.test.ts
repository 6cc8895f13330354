import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.ts";
import { TestRepo, tempDir } from "./helpers.ts";
import { buildSampleRepo } from "./sample-repo.ts";

const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");

function cli(
  args: string[],
  cwd = process.cwd(),
  verb = "mine",
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [MAIN, verb, ...args], {
      cwd,
      env: { ...process.env, GITHUB_TOKEN: "cli-token" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

describe("swe-universe mine", () => {
  let repo: TestRepo;
  let prs: Record<number, string>;
  let fake: FakeGitHub;
  beforeAll(async () => {
    const built = buildSampleRepo();
    repo = built.repo;
    prs = built.prs;
    fake = await startFakeGitHub({
      base: built.base,
      pr1: prs[1]!,
      "pr1^2": repo.git("rev-parse", `${prs[1]}^2`),
      pr2: prs[2]!,
      pr11: prs[11]!,
      "pr11^2": repo.git("rev-parse", `${prs[11]}^2`),
    });
  });
  afterAll(async () => {
    await fake.close();
    repo.remove();
  });

  it("prints the funnel as JSON and keeps the store in the run dir", async () => {
    const runDir = tempDir("sweu-cli-");
    const r = await cli([
      repo.dir,
      "--json",
      "--run-dir",
      runDir,
      "--max-files",
      "5",
      "--repo-name",
      "acme/sample",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      repo: "acme/sample",
      candidates: 11,
      tasks: 3,
      tasks_needing_tests: 1,
      languages: { python: 2, rust: 1 },
      rejections: { no_test_change: 1, too_large: 1, empty_diff: 1, submodule_change: 1 },
    });
    expect(existsSync(join(runDir, "store.sqlite"))).toBe(true);
    // The clone is recorded, so `build --run-dir` needs no --repo.
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const clone = store.getMeta("git_dir:acme/sample");
    expect(clone).toBe(repo.dir);
    store.close();
    // A rerun resumes: nothing new is listed.
    const again = JSON.parse(
      (await cli([repo.dir, "--json", "--run-dir", runDir, "--repo-name", "acme/sample"])).stdout,
    );
    expect(again.this_run).toMatchObject({ listed: 0, skipped: 11 });
  });

  it("prints a readable funnel into ./runs/<owner__name>/ by default", async () => {
    const cwd = tempDir("sweu-cli-cwd-");
    const r = await cli([repo.dir, "--limit", "2"], cwd);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/candidates\s+2/);
    const name = repo.dir.split("/").pop()!;
    expect(existsSync(join(cwd, "runs", `local__${name}`, "store.sqlite"))).toBe(true);
  });

  it("run --github takes PR bodies, linked issues and their comments from the API (here: mining only)", async () => {
    const runDir = tempDir("sweu-cli-run-gh-");
    // --only an id that is no task: nothing is built, no container is started.
    const args = ["acme/sample", "--github", "--json", "--run-dir", runDir, "--api-url", fake.url];
    const r = await cli(
      [...args, "--clone-url", repo.dir, "--only", "none", "--no-progress"],
      undefined,
      "run",
    );
    expect(r.stderr).toMatch(/mined: 2 new tasks/);
    expect(r.code, r.stderr).toBe(0);
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const t11 = store.getTask("acme__sample-11")!;
    expect(t11.problem_statement_source).toBe("issue");
    expect(t11.problem_statement).toMatch(/^Script is not executable\n\nRunning/);
    expect(t11.hints_text).toBe("The mode bit is missing in git.");
    // The PR's own text is kept beside the issue's, for the statement writer.
    expect(t11.pr_text).toBeTruthy();
    expect(t11.quality?.checks.map((c) => c.check)).toContain("release");
    expect(store.getMeta("git_dir:acme/sample")).toBe(repo.dir);
    store.close();
  });

  it("mines through the GitHub API with a clone for diffs", async () => {
    const runDir = tempDir("sweu-cli-gh-");
    const args = [
      "acme/sample",
      "--github",
      "--json",
      "--run-dir",
      runDir,
      "--api-url",
      fake.url,
      "--clone-url",
      repo.dir,
    ];
    const r = await cli(args);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ candidates: 5, tasks: 2, rejections: { not_merged: 1 } });
    expect(fake.requests.some((q) => q.headers.authorization === "token cli-token")).toBe(true);
  });

  it("explains an empty result: what was looked for, and --github for rebase-merged repositories", async () => {
    const plain = new TestRepo();
    try {
      plain.write("a.py", "x = 1\n").commit("initial");
      plain.write("a.py", "x = 2\n").commit("Rebased change without a PR number");
      const r = await cli([plain.dir, "--run-dir", tempDir("sweu-cli-")]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/candidates\s+0/);
      expect(r.stderr).toMatch(/no merged pull requests found/);
      expect(r.stderr).toContain('"Merge pull request #N from …"');
      expect(r.stderr).toContain('"… (#N)"');
      expect(r.stderr).toContain("--github owner/name");
    } finally {
      plain.remove();
    }
  });

  it("exits 4 with the rate-limit sentence when GitHub asks to wait longer than the client accepts", async () => {
    fake.failures = { "pulls-1": ["secondary-long"] };
    const runDir = tempDir("sweu-cli-gh-");
    const args = [
      "acme/sample",
      "--github",
      "--run-dir",
      runDir,
      "--api-url",
      fake.url,
      "--clone-url",
      repo.dir,
    ];
    const r = await cli(args);
    fake.failures = {};
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/secondary rate limit \(403\)\. GitHub asks to wait 3600 s/);
  });

  it("exits 3 for a non-repository, 4 for an unreachable URL, 2 for bad flags", async () => {
    const notRepo = await cli([tempDir(), "--run-dir", tempDir()]);
    expect(notRepo.code).toBe(3);
    expect(notRepo.stderr).toMatch(/not a git repository/);
    const down = await cli(["http://127.0.0.1:9/acme/none.git", "--run-dir", tempDir()]);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot clone/);
    expect((await cli([repo.dir, "--limit", "many"])).code).toBe(2);
  });
});
