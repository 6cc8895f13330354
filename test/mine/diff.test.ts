import { execFileSync, spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkDiff, joinSections, parseDiff, unquotePath } from "../../src/mine/diff.ts";
import { GitRepo } from "../../src/mine/git.ts";
import { TestRepo } from "./helpers.ts";

const big = (tag: string) =>
  Array.from({ length: 40 }, (_, i) => `def f${i}():\n    return ${i}  # ${tag}\n`).join("");

describe("diff parser on real git diffs", () => {
  let repo: TestRepo;
  let git: GitRepo;
  let base: string;
  let resolved: string;

  beforeAll(async () => {
    repo = new TestRepo();
    repo
      .write("src/old_name.py", big("rename"))
      .write("src/big.py", big("copy"))
      .write("scripts/run.sh", "echo hi\n", 0o644)
      .write("assets/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]))
      .write("old.txt", "bye\n")
      .write("win.txt", "one\r\ntwo\r\nthree\r\n")
      .write("dir with space/ü.py", "x = 1\n")
      .write("noeol.txt", "a\nb");
    base = repo.commit("base");
    repo.git("mv", "src/old_name.py", "src/new_name.py");
    repo
      .write("src/new_name.py", big("rename").replace("return 3 ", "return 33 "))
      .write("src/big_copy.py", big("copy").replace("return 5 ", "return 55 "))
      .write("src/big.py", big("copy").replace("return 7 ", "return 77 "))
      .write("scripts/run.sh", "echo hi\n", 0o755)
      .write("assets/logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 9, 9, 9, 9]))
      .rm("old.txt")
      .write("win.txt", "one\r\nTWO\r\nthree\r\n")
      .write("dir with space/ü.py", "x = 2\n")
      .write("noeol.txt", "a\nc");
    resolved = repo.commit("everything at once");
    git = await GitRepo.open(repo.dir);
  });
  afterAll(async () => {
    await git.close();
    repo.remove();
  });

  it("recognises renames, copies, mode changes, binaries, deletions, CRLF and quoted paths", async () => {
    const files = parseDiff(await git.diff(base, resolved));
    const by = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(by["src/new_name.py"]).toMatchObject({
      status: "renamed",
      oldPath: "src/old_name.py",
      additions: 1,
      deletions: 1,
    });
    expect(by["src/big_copy.py"]).toMatchObject({
      status: "copied",
      oldPath: "src/big.py",
      additions: 1,
      deletions: 1,
    });
    expect(by["src/big.py"]).toMatchObject({ status: "modified", additions: 1, deletions: 1 });
    expect(by["scripts/run.sh"]).toMatchObject({
      oldMode: "100644",
      newMode: "100755",
      additions: 0,
      hunks: [],
    });
    expect(by["assets/logo.png"]).toMatchObject({ binary: true, additions: 0 });
    expect(by["old.txt"]).toMatchObject({ status: "deleted", deletions: 1 });
    expect(by["win.txt"]).toMatchObject({ additions: 1, deletions: 1 });
    expect(by["win.txt"]!.text).toContain("+TWO\r\n");
    expect(by["dir with space/ü.py"]).toMatchObject({ status: "modified", additions: 1, deletions: 1 });
    expect(by["noeol.txt"]!.text).toContain("\\ No newline at end of file");
    expect(files.every((f) => !f.undecodable && !f.submodule)).toBe(true);
    expect(files.filter((f) => f.problem)).toEqual([]);
    expect(checkDiff(await git.diff(base, resolved)).problem).toBeUndefined();
    // Line numbers of changed lines are tracked for content rules.
    expect(by["win.txt"]!.hunks[0]).toMatchObject({ removed: [2], added: [2] });
  });

  it("rebuilds a patch that reproduces the resolved tree byte for byte", async () => {
    const files = parseDiff(await git.diff(base, resolved));
    const patch = join(repo.dir, "..", `${process.pid}-all.patch`);
    writeFileSync(patch, joinSections(files));
    repo.git("checkout", "-q", "--detach", base);
    try {
      repo.git("apply", "--index", patch);
      expect(repo.git("write-tree")).toBe(repo.git("rev-parse", `${resolved}^{tree}`));
    } finally {
      repo.git("reset", "-q", "--hard");
      repo.git("checkout", "-q", "main");
      execFileSync("rm", ["-f", patch]);
    }
  });

  it("flags a non-UTF-8 text change as undecodable and an empty diff as no files", async () => {
    repo.write("latin.txt", Buffer.from("caf\xe9\n", "latin1"));
    const c1 = repo.commit("latin1");
    repo.write("latin.txt", Buffer.from("na\xefve\n", "latin1"));
    const c2 = repo.commit("latin1 again");
    const [f] = parseDiff(await git.diff(c1, c2));
    expect(f).toMatchObject({ path: "latin.txt", undecodable: true });
    expect(parseDiff(await git.diff(c2, c2))).toEqual([]);
    expect(parseDiff(Buffer.alloc(0))).toEqual([]);
  });

  it("unquotes C-style quoted paths", () => {
    expect(unquotePath('"a/t\\303\\251st\\tx"')).toBe("a/tést\tx");
    expect(unquotePath("plain")).toBe("plain");
    const [f] = parseDiff(
      'diff --git "a/t\\303\\251st.py" "b/t\\303\\251st.py"\nindex 1..2 100644\n--- "a/t\\303\\251st.py"\n+++ "b/t\\303\\251st.py"\n@@ -1 +1 @@\n-a\n+b\n',
    );
    expect(f).toMatchObject({ path: "tést.py", oldPath: "tést.py", additions: 1, deletions: 1 });
  });

  it("parses GIT binary patch sections and submodule pointers", () => {
    const text = [
      "diff --git a/lib b/lib",
      "new file mode 160000",
      "index 0000000000000000000000000000000000000000..1111111111111111111111111111111111111111",
      "--- /dev/null",
      "+++ b/lib",
      "@@ -0,0 +1 @@",
      "+Subproject commit 1111111111111111111111111111111111111111",
      "diff --git a/x.bin b/x.bin",
      "index 1111111111111111111111111111111111111111..2222222222222222222222222222222222222222 100644",
      "GIT binary patch",
      "literal 3",
      "KcmZQzWMT jds",
      "",
      "literal 0",
      "HcmV?d00001",
      "",
    ].join("\n");
    const [sub, bin] = parseDiff(text);
    expect(sub).toMatchObject({ path: "lib", status: "added", submodule: true });
    expect(bin).toMatchObject({ path: "x.bin", binary: true, additions: 0 });
  });
});

/** `git apply --check` of a patch text in a repository: true when git would apply it. */
function gitApplies(dir: string, patch: string): boolean {
  return spawnSync("git", ["apply", "--check", "-"], { cwd: dir, input: patch }).status === 0;
}

describe("diff structure checks", () => {
  let repo: TestRepo;
  let git: GitRepo;
  let base: string;

  beforeAll(async () => {
    repo = new TestRepo();
    repo
      .write("x.py", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n")
      .write("gone.txt", "gone\n")
      .write("same.py", big("same"))
      .write("tricky.txt", "keep\n\nend\n")
      .write("crlf.txt", "one\r\n\r\ntwo\r\n");
    base = repo.commit("base");
    git = await GitRepo.open(repo.dir);
  });
  afterAll(async () => {
    await git.close();
    repo.remove();
  });

  it("accepts real diffs: empty files, pure renames, symlinks, header-like content, blank and CRLF lines, several hunks", async () => {
    repo.git("mv", "same.py", "moved.py");
    repo.rm("gone.txt");
    symlinkSync("x.py", join(repo.dir, "link"));
    repo
      .write("new_empty.txt", "")
      .write("x.py", "A\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nM")
      .write(
        "tricky.txt",
        "keep\n\ndiff --git a/fake b/fake\n@@ -1,5 +1,5 @@\n--- a/fake\n+++ b/fake\n\\ No newline at end of file\nend\n",
      )
      .write("crlf.txt", "one\r\n\r\nTWO\r\n\r\n");
    const resolved = repo.commit("real-world shapes");
    const raw = await git.diff(base, resolved);
    const { files, problem } = checkDiff(raw);
    expect(problem).toBeUndefined();
    const by = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(by["moved.py"]).toMatchObject({ status: "renamed", hunks: [] });
    expect(by["new_empty.txt"]).toMatchObject({ status: "added", hunks: [] });
    expect(by["gone.txt"]).toMatchObject({ status: "deleted", deletions: 1 });
    expect(by.link).toMatchObject({ status: "added", newMode: "120000" });
    expect(by["x.py"]!.hunks).toHaveLength(2);
    expect(by["tricky.txt"]).toMatchObject({ additions: 5, deletions: 0 });
    // The same change with blank context lines written as empty lines (diff.suppressBlankEmpty).
    const suppressed = repo.git(
      "-c",
      "diff.suppressBlankEmpty=true",
      "diff",
      base,
      resolved,
      "--",
      "tricky.txt",
    );
    expect(suppressed).toMatch(/\n\n/);
    expect(checkDiff(`${suppressed}\n`).problem).toBeUndefined();
    // A localised "no newline" marker and trailing blank lines after the last hunk are fine too.
    const localised = by["x.py"]!.text.replace(
      "\\ No newline at end of file",
      "\\ Kein Zeilenumbruch am Dateiende.",
    );
    expect(checkDiff(`${localised}\n\n`).problem).toBeUndefined();
    // Blank input is an empty diff, not a malformed one.
    expect(checkDiff("\n  \n")).toEqual({ files: [] });
    repo.git("checkout", "-q", "--detach", base);
    try {
      expect(gitApplies(repo.dir, joinSections(files))).toBe(true);
    } finally {
      repo.git("checkout", "-q", "main");
    }
  });

  const header = "diff --git a/x.py b/x.py\nindex 1111111..2222222 100644\n--- a/x.py\n+++ b/x.py\n";
  const malformed: [string, string, RegExp][] = [
    ["garbage without sections", "hello\nworld\n", /^no "diff --git" section in 12 bytes: "hello"$/],
    [
      "text before the first section",
      `fatal: oops\n${header}@@ -1 +1 @@\n-a\n+A\n`,
      /text before the first section/,
    ],
    [
      "a hunk shorter than its header",
      `${header}@@ -1,5 +1,5 @@\n-a\n+A\n b\n c\n`,
      /^x\.py: hunk 1 \(@@ -1,5 \+1,5 @@\) has 3 old and 3 new line\(s\), its header promises 5 and 5$/,
    ],
    [
      "a second hunk cut short by the next section",
      `${header}@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -10,3 +10,3 @@\n j\n-k\n+K\ndiff --git a/y b/y\nnew file mode 100644\n`,
      /^x\.py: hunk 2 \(@@ -10,3 \+10,3 @@\) has 2 old and 2 new/,
    ],
    [
      "a hunk longer than its header",
      `${header}@@ -1 +1 @@\n-a\n+A\n+extra\n`,
      /hunk 1 .* more lines than its header promises: "\+extra"/,
    ],
    [
      "more added lines than promised",
      `${header}@@ -1,2 +1,1 @@\n-a\n+A\n+B\n b\n`,
      /hunk 1 .* more new lines/,
    ],
    [
      "a stray line inside a hunk",
      `${header}@@ -1,2 +1,2 @@\n-a\n+A\nb\n`,
      /hunk 1 .*: "b" at line 8 is no hunk line/,
    ],
    ["a malformed hunk header", `${header}@@ -1,x +1 @@\n-a\n+A\n`, /malformed hunk header at line 5/],
    [
      "a line before the first hunk",
      `${header}-a\n@@ -1 +1 @@\n-a\n+A\n`,
      /unexpected line 5 before the first hunk: "-a"/,
    ],
    [
      "an unparsable diff --git line",
      "diff --git nonsense\n@@ -1 +1 @@\n-a\n+A\n",
      /^nonsense: cannot parse the paths/,
    ],
    [
      "hunks without ---/+++ lines",
      "diff --git a/x.py b/x.py\n@@ -1 +1 @@\n-a\n+A\n",
      /without both ---\/\+\+\+ lines/,
    ],
    ["a section that changes nothing", "diff --git a/x.py b/x.py\n", /changes nothing/],
    [
      "a misplaced no-newline marker",
      `${header}@@ -1 +1 @@\n\\ No newline at end of file\n-a\n+A\n`,
      /misplaced/,
    ],
    [
      "a binary patch without data",
      "diff --git a/b.bin b/b.bin\nGIT binary patch\n",
      /^b\.bin: GIT binary patch without data/,
    ],
  ];

  it.each(malformed)("flags %s (and git apply refuses it too)", (_name, text, want) => {
    const { problem } = checkDiff(text);
    expect(problem).toMatch(want);
    expect(gitApplies(repo.dir, text.endsWith("\n") ? text : `${text}\n`)).toBe(false);
  });
});
