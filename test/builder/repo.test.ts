import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoView, sanitisedCheckout } from "../../src/builder/repo.ts";
import { TestRepo } from "../helpers/repos.ts";

const git = (dir: string, ...args: string[]) =>
  execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();

describe("sanitisedCheckout", () => {
  it("keeps history up to the base commit and nothing that leads to the fix", async () => {
    const r = new TestRepo();
    r.commit("one", { "a.py": "x = 1\n" });
    const base = r.commit("two", { "a.py": "x = 2\n" });
    r.git("tag", "v1");
    r.git("checkout", "-q", "-b", "feature");
    const fix = r.commit("the fix", { "a.py": "x = 3\n" });
    r.git("stash", "list");
    r.git("checkout", "-q", "main");
    r.git("merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #4 from dev/feature");
    const dest = join(mkdtempSync(join(tmpdir(), "sweu-sanitise-")), "testbed");
    await sanitisedCheckout(r.dir, base, dest);
    expect(git(dest, "rev-parse", "HEAD")).toBe(base);
    expect(git(dest, "log", "--all", "--format=%s").split("\n")).toEqual(["two", "one"]);
    expect(git(dest, "tag")).toBe("");
    expect(git(dest, "remote")).toBe("");
    expect(git(dest, "for-each-ref", "--format=%(refname)")).toBe("refs/heads/main");
    expect(git(dest, "stash", "list")).toBe("");
    expect(git(dest, "reflog", "--all")).toBe("");
    expect(git(dest, "fsck", "--unreachable", "--no-reflogs")).toBe("");
    expect(() => git(dest, "cat-file", "-e", fix)).toThrow();
    expect(git(dest, "status", "--porcelain")).toBe("");
  });
});

describe("repoView", () => {
  it("lists files and reads manifests at a commit, not the working tree", async () => {
    const r = new TestRepo();
    const c1 = r.commit("one", {
      "package.json": '{"name":"a"}',
      "src/x.js": "1",
      "deep/a/b/c/package.json": "{}",
    });
    r.commit("two", { "package.json": '{"name":"b"}' });
    const v = await repoView(r.dir, c1);
    expect(v.has("src/x.js")).toBe(true);
    expect(v.read("package.json")).toBe('{"name":"a"}');
    expect(v.read("src/x.js")).toBeUndefined();
    expect(v.read("deep/a/b/c/package.json")).toBeUndefined();
    expect(v.first("yarn.lock", "package.json")).toBe("package.json");
  });
});
