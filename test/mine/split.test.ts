import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRepo } from "../../src/mine/git.ts";
import { splitCandidate } from "../../src/mine/split.ts";
import { Candidate } from "../../src/records/candidate.ts";
import { Task } from "../../src/records/task.ts";
import { TestRepo } from "./helpers.ts";

const APP = Array.from({ length: 20 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join("");

describe("splitCandidate on real and broken diffs", () => {
  let repo: TestRepo;
  let git: GitRepo;
  let base: string;
  let fix: string;
  let packaging: string;
  const candidate = (resolved: string, extra: Partial<Candidate> = {}): Candidate =>
    Candidate.parse({
      id: "acme__app-7",
      repo: "acme/app",
      number: 7,
      title: "Fix f3",
      merged: true,
      created_at: "2024-01-01T00:00:00Z",
      merged_at: "2024-01-02T00:00:00Z",
      base_commit: base,
      resolved_commit: resolved,
      source: "git",
      merge_style: "squash",
      ...extra,
    });

  beforeAll(async () => {
    repo = new TestRepo();
    repo
      .write("src/app.py", APP)
      .write("tests/test_app.py", "def test_f3():\n    assert True\n")
      .write("setup.py", "from setuptools import setup\nsetup(name='app')\n");
    base = repo.commit("base");
    repo
      .write(
        "src/app.py",
        APP.replace("return x + 3\n", "return x + 33\n").replace("return x + 17\n", "return 17\n"),
      )
      .write("tests/test_app.py", "def test_f3():\n    assert f3(0) == 33\n");
    fix = repo.commit("fix");
    repo.git("checkout", "-q", "--detach", base);
    repo
      .write("setup.py", "from setuptools import setup\nsetup(name='app', version='2')\n")
      .write("tests/test_app.py", "def test_version():\n    assert True\n");
    packaging = repo.commit("packaging only");
    repo.git("checkout", "-q", "main");
    git = await GitRepo.open(repo.dir);
  });
  afterAll(async () => {
    await git.close();
    repo.remove();
  });

  it("turns the real diff into a task that carries the candidate's hints", async () => {
    const { task, rejection } = await splitCandidate(
      candidate(fix, { hints_text: "It also breaks f4." }),
      await git.diff(base, fix),
    );
    expect(rejection).toBeUndefined();
    expect(Task.parse(task)).toMatchObject({
      code_files: ["src/app.py"],
      test_files: ["tests/test_app.py"],
      hints_text: "It also breaks f4.",
    });
  });

  it("rejects a diff whose hunk lost a line as malformed_diff, naming the file and the hunk", async () => {
    const diff = (await git.diff(base, fix)).toString("utf8");
    // Drop the last context line of the second hunk of src/app.py: its header now promises one line too many.
    const cut = diff.replace("\n def f18(x):\n", "\n");
    expect(cut).not.toBe(diff);
    const { task, rejection } = await splitCandidate(candidate(fix), Buffer.from(cut));
    expect(task).toBeUndefined();
    expect(rejection?.reason).toBe("malformed_diff");
    expect(rejection?.detail).toMatch(
      /^src\/app\.py: hunk 2 \(@@ -\d+,\d+ \+\d+,\d+ @@\) has \d+ old and \d+ new/,
    );
  });

  it("rejects garbage as malformed_diff, not as an empty diff; blank output stays empty_diff", async () => {
    const garbage = await splitCandidate(candidate(fix), Buffer.from("error: object not found\n"));
    expect(garbage.rejection).toEqual({
      reason: "malformed_diff",
      detail: 'no "diff --git" section in 24 bytes: "error: object not found"',
    });
    const empty = await splitCandidate(candidate(fix), await git.diff(fix, fix));
    expect(empty.rejection?.reason).toBe("empty_diff");
  });

  it("counts a setup.py change as build metadata: packaging plus tests is no_code_change", async () => {
    const { rejection } = await splitCandidate(candidate(packaging), await git.diff(base, packaging));
    expect(rejection).toEqual({
      reason: "no_code_change",
      detail: "only 1 test and 1 other file(s) changed",
    });
  });

  it("puts a CMakeLists.txt change that only compiles the new test file with the tests, not the gold patch", async () => {
    const c = new TestRepo();
    const cmake = (extra: string, flags = "-O0") =>
      `add_library(uri src/uri.c)\nset(FLAGS ${flags})\nadd_executable(testrunner\n${extra}    test/copy.cpp\n)\n`;
    c.write("CMakeLists.txt", cmake(""))
      .write("src/uri.c", "int f(){return 1;}\n")
      .write("test/copy.cpp", "//\n");
    const b = c.commit("base");
    c.write("CMakeLists.txt", cmake("    test/RangeWrap.cpp\n"))
      .write("src/uri.c", "int f(){return 2;}\n")
      .write("test/RangeWrap.cpp", "// new test\n");
    const wiring = c.commit("fix with its test wired in");
    c.git("checkout", "-q", "--detach", b);
    c.write("CMakeLists.txt", cmake("    test/RangeWrap.cpp\n", "-O2"))
      .write("src/uri.c", "int f(){return 2;}\n")
      .write("test/RangeWrap.cpp", "// new test\n");
    const both = c.commit("fix that also changes the build");
    const g = await GitRepo.open(c.dir);
    try {
      const at = (r: string) => candidate(r, { base_commit: b, resolved_commit: r });
      const w = (await splitCandidate(at(wiring), await g.diff(b, wiring))).task!;
      expect([w.code_files, w.test_files, w.other_files]).toEqual([
        ["src/uri.c"],
        ["CMakeLists.txt", "test/RangeWrap.cpp"],
        [],
      ]);
      expect(w.test_patch).toContain("+    test/RangeWrap.cpp");
      expect(w.patch).not.toContain("CMakeLists.txt");
      // A section that changes anything else stays in the gold patch, as SWE-bench splits.
      const o = (await splitCandidate(at(both), await g.diff(b, both))).task!;
      expect([o.test_files, o.other_files]).toEqual([["test/RangeWrap.cpp"], ["CMakeLists.txt"]]);
    } finally {
      await g.close();
      c.remove();
    }
  });
});
