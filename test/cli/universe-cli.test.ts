import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { eta } from "../../src/cli/commands/universe.ts";
import { TestRepo } from "../helpers/repos.ts";
import { spawnCli } from "../queue/cli.ts";
import { startFakeSearch } from "../universe/fake-github-search.ts";

describe("swe-universe universe: bad input", () => {
  it("names duplicates, missing and unreachable repositories once each, counts them in the funnel, and keeps the budgets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-ucli-"));
    const docs = new TestRepo(); // a repository whose PRs change no code: mined, nothing to build
    docs.commit("init", { "README.md": "a\n" });
    docs.squashPr(1, "Docs", "", { "README.md": "b\n" });
    writeFileSync(
      join(dir, "repos.txt"),
      [docs.dir, docs.dir, "./missing-folder", "file:///nonexistent/acme/gone.git", "what is this", ""].join(
        "\n",
      ),
    );
    const runDir = join(dir, "run");
    const args = [
      "universe",
      "--repos",
      join(dir, "repos.txt"),
      "--run-dir",
      runDir,
      "--max-prs",
      "5",
      "--no-progress",
    ];
    const a = spawnCli(args);
    expect(await a.exited, a.err()).toBe(0);
    for (const re of [
      /repos\.txt:2 .*: duplicate:/,
      /repos\.txt:3 .*: not_found: no such folder/,
      /repos\.txt:5 .*: invalid:/,
      /acme\/gone: input_error:/,
    ])
      expect(a.err()).toMatch(re);
    const f = JSON.parse(readFileSync(join(runDir, "funnel.json"), "utf8"));
    expect(f.inputs.by_kind).toEqual({ duplicate: 1, invalid: 1, not_found: 2 });
    expect(f.repositories.map((r: { repo: string; status: string }) => [r.repo, r.status]).sort()).toEqual([
      ["acme/gone", "input_error"],
      [`local/${docs.dir.split("/").pop()}`, "done"],
    ]);
    expect(readFileSync(join(runDir, "funnel.md"), "utf8")).toMatch(
      /## Inputs[\s\S]*repos\.txt:2[\s\S]*duplicate/,
    );
    // The same command again: nothing new to say about the inputs, the budget as stored.
    const b = spawnCli(["universe", "--repos", join(dir, "repos.txt"), "--run-dir", runDir, "--no-progress"]);
    expect(await b.exited, b.err()).toBe(0);
    expect(b.err()).not.toMatch(/duplicate:/);
    expect(b.err()).not.toMatch(/budget/);
    // Another budget is said to be one.
    const c = spawnCli([...args.slice(0, -3), "--max-prs", "9", "--no-progress"]);
    expect(await c.exited, c.err()).toBe(0);
    expect(c.err()).toMatch(/budget prs: 5 → 9 per repository \(a new budget\)/);
  }, 300_000);

  it("a GitHub search lists the repositories (clone URLs from the API), the same repository listed twice once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-usearch-"));
    const bare = (name: string) => {
      const r = new TestRepo();
      r.commit("init", { "README.md": "a\n" });
      r.squashPr(1, "Docs", "", { "README.md": "b\n" });
      const url = join(dir, "git", "acme", `${name}.git`);
      r.git("clone", "-q", "--bare", r.dir, url);
      return `file://${url}`;
    };
    const a = bare("one");
    const fake = await startFakeSearch(
      [
        { full_name: "acme/one", created_at: "2024-01-01T00:00:00Z", clone_url: a },
        { full_name: "acme/two", created_at: "2024-02-01T00:00:00Z", clone_url: bare("two") },
      ],
      {},
    );
    try {
      writeFileSync(join(dir, "repos.txt"), `${a}\n`);
      const runDir = join(dir, "run");
      const p = spawnCli([
        "universe",
        "--repos",
        join(dir, "repos.txt"),
        "--search-language",
        "python",
        "--search-stars",
        "100",
        "--api-url",
        fake.url,
        "--run-dir",
        runDir,
        "--no-progress",
      ]);
      expect(await p.exited, p.err()).toBe(0);
      expect(p.err()).toMatch(/search: 2 repositories match, 2 taken/);
      expect(p.err()).toMatch(
        /input search "acme\/one": duplicate: acme\/one is already listed \(repos\.txt:1\)/,
      );
      expect(
        fake.requests.some((q) => q.includes("language%3Apython") && q.includes("stars%3A%3E%3D100")),
      ).toBe(true);
      const f = JSON.parse(readFileSync(join(runDir, "funnel.json"), "utf8"));
      expect(f.repositories.map((r: { repo: string }) => r.repo).sort()).toEqual(["acme/one", "acme/two"]);
    } finally {
      await fake.close();
    }
  }, 300_000);

  it("the ETA of the whole run: remaining tasks at this session's pace", () => {
    const p = {
      repos: 3,
      reposMined: 2,
      reposDone: 1,
      done: 10,
      expected: 30,
      instances: 5,
      session: { done: 4, startedAt: 0 },
    };
    expect(eta(p, 4 * 60_000)).toBe("20m"); // 4 tasks in 4 min, 20 left
    expect(eta({ ...p, session: { done: 0, startedAt: 0 } }, 1000)).toBe("—");
    expect(eta({ ...p, expected: 10 }, 1000)).toBe("0s");
  });
});
