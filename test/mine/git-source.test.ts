import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceError } from "../../src/mine/errors.ts";
import { repoNameFromUrl } from "../../src/mine/git.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import type { Candidate } from "../../src/records/candidate.ts";
import { type TestRepo, tempDir } from "./helpers.ts";
import { buildSampleRepo } from "./sample-repo.ts";

async function collect(src: GitSource, opts = {}): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for await (const c of src.listCandidates(opts)) out.push(c);
  return out;
}

async function openError(location: string, opts = {}): Promise<SourceError> {
  try {
    const s = await GitSource.open(location, opts);
    await s.close();
  } catch (e) {
    if (e instanceof SourceError) return e;
    throw e;
  }
  throw new Error("expected a SourceError");
}

describe("git source", () => {
  let repo: TestRepo;
  let prs: Record<number, string>;
  let base: string;
  beforeAll(() => {
    ({ repo, prs, base } = buildSampleRepo());
  });
  afterAll(() => repo.remove());

  it("recovers merge and squash PRs with base = first parent, newest first, in one log pass", async () => {
    const src = await GitSource.open(repo.dir);
    try {
      const all = await collect(src);
      expect(all.map((c) => c.number)).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
      const one = all.find((c) => c.number === 1)!;
      expect(one).toMatchObject({
        merge_style: "merge",
        resolved_commit: prs[1],
        base_commit: base,
        merged: true,
      });
      expect(one.changed_files.map((f) => [f.path, f.kind, f.additions, f.deletions])).toEqual([
        ["src/app.py", "code", 1, 1],
        ["tests/test_app.py", "test", 3, 3],
      ]);
      const two = all.find((c) => c.number === 2)!;
      expect(two.base_commit).toBe(repo.git("rev-parse", `${prs[2]}^`));
      expect(all.find((c) => c.number === 4)!.changed_files[0]).toMatchObject({
        path: "logo.png",
        binary: true,
      });
      expect(all.find((c) => c.number === 5)!.changed_files.some((f) => f.submodule)).toBe(true);
      const eleven = all.find((c) => c.number === 11)!;
      expect(eleven.changed_files.find((f) => f.path === "tool.sh")).toMatchObject({ status: "modified" });
      expect(eleven.changed_files.find((f) => f.path === "src/application.py")).toMatchObject({
        status: "renamed",
        old_path: "src/app.py",
      });
      expect(eleven.linked_issues).toEqual([{ number: 30, title: "", body: "", closing: true }]);
      expect(src.repo).toMatch(/^local\/sweu-mine-/);
      expect(await collect(src, { limit: 2 })).toHaveLength(2);
      expect(await collect(src, { since: "2100-01-01" })).toHaveLength(0);
    } finally {
      await src.close();
    }
  });

  it("names the repository from origin, or from --repo-name", async () => {
    repo.git("remote", "add", "origin", "https://github.com/acme/widgets.git");
    try {
      const s1 = await GitSource.open(repo.dir);
      expect(s1.repo).toBe("acme/widgets");
      await s1.close();
      const s2 = await GitSource.open(repo.dir, { repoName: "other/name" });
      expect(s2.repo).toBe("other/name");
      await s2.close();
      expect((await openError(repo.dir, { repoName: "no-slash" })).kind).toBe("input");
    } finally {
      repo.git("remote", "remove", "origin");
    }
    expect(repoNameFromUrl("git@github.com:pallets/click.git")).toBe("pallets/click");
    expect(repoNameFromUrl("https://ghe.example.com/org/tool/")).toBe("org/tool");
  });

  it("clones a URL (bare) into the cache dir and mines the clone", async () => {
    const cache = tempDir("sweu-mine-cache-");
    const src = await GitSource.open(`file://${repo.dir}`, { repoName: "acme/sample", cacheDir: cache });
    try {
      expect(existsSync(join(cache, "acme__sample.git", "HEAD"))).toBe(true);
      expect((await collect(src)).length).toBe(11);
    } finally {
      await src.close();
    }
    // A second open updates the existing copy instead of cloning again.
    const again = await GitSource.open(`file://${repo.dir}`, { repoName: "acme/sample", cacheDir: cache });
    await again.close();
  });

  it("replaces a cached clone left broken by an interrupted clone, and never leaves a partial one", async () => {
    const url = `file://${repo.dir}`;
    const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
    const mined = async (cache: string) => {
      const src = await GitSource.open(url, { repoName: "acme/sample", cacheDir: cache });
      try {
        return (await collect(src)).length;
      } finally {
        await src.close();
      }
    };
    // 1. A bare repository without an origin remote (killed right after `git init`).
    const noOrigin = tempDir("sweu-mine-cache-");
    git("init", "-q", "--bare", join(noOrigin, "acme__sample.git"));
    expect(await mined(noOrigin)).toBe(11);
    expect(git("--git-dir", join(noOrigin, "acme__sample.git"), "config", "remote.origin.url")).toBe(url);

    // 2. Origin set but HEAD names a branch that was never fetched (killed before the refs were written);
    //    the fetch brings main, HEAD follows the remote's default branch.
    const badHead = tempDir("sweu-mine-cache-");
    const dir = join(badHead, "acme__sample.git");
    git("init", "-q", "--bare", dir);
    git("--git-dir", dir, "remote", "add", "origin", url);
    git("--git-dir", dir, "symbolic-ref", "HEAD", "refs/heads/never-fetched");
    expect(await mined(badHead)).toBe(11);
    expect(git("--git-dir", dir, "symbolic-ref", "HEAD")).toBe("refs/heads/main");

    // 3. A copy whose origin points elsewhere (an old mirror, now gone) and lost its branch: it follows the
    //    URL asked for.
    const orphan = tempDir("sweu-mine-cache-");
    const dir3 = join(orphan, "acme__sample.git");
    git("clone", "-q", "--bare", url, dir3);
    git("--git-dir", dir3, "remote", "set-url", "origin", join(tempDir(), "gone"));
    git("--git-dir", dir3, "update-ref", "-d", "refs/heads/main");
    expect(await mined(orphan)).toBe(11);

    // A clone that fails leaves nothing at the cache path (nor a partial sibling) to block the next run.
    const failed = tempDir("sweu-mine-cache-");
    await expect(
      GitSource.open(`file://${join(failed, "nowhere")}`, { repoName: "acme/sample", cacheDir: failed }),
    ).rejects.toMatchObject({ kind: "unavailable" });
    expect(readdirSync(failed)).toEqual([]);
    // A partial folder of a dead process is cleaned up by the next clone.
    mkdirSync(join(failed, "acme__sample.git.partial-999999999"));
    expect(await mined(failed)).toBe(11);
    expect(readdirSync(failed)).toEqual(["acme__sample.git"]);
  });

  it("says clearly when the path is not a repository, is shallow, is empty, or the URL is unreachable", async () => {
    const plain = tempDir();
    writeFileSync(join(plain, "x"), "x");
    const notRepo = await openError(plain);
    expect(notRepo.kind).toBe("input");
    expect(notRepo.message).toMatch(/not a git repository/);
    expect((await openError(join(plain, "missing"))).message).toMatch(/does not exist/);

    const shallow = join(tempDir(), "shallow");
    execFileSync("git", ["clone", "-q", "--depth", "2", `file://${repo.dir}`, shallow]);
    const e = await openError(shallow);
    expect(e.kind).toBe("input");
    expect(e.message).toMatch(/shallow/);

    const empty = join(tempDir(), "empty");
    mkdirSync(empty);
    execFileSync("git", ["init", "-q", empty]);
    expect((await openError(empty)).message).toMatch(/no commits/);

    const unreachable = await openError("http://127.0.0.1:9/nobody/nothing.git", { cacheDir: tempDir() });
    expect(unreachable.kind).toBe("unavailable");
  });
});
