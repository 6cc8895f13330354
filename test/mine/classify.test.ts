import { describe, expect, it } from "vitest";
import { classifyPath, languageOf, rankLanguages } from "../../src/mine/classify.ts";
import { parseDiff } from "../../src/mine/diff.ts";
import { parseIssueRefs, parsePrCommit } from "../../src/mine/refs.ts";
import { cfgTestRanges, onlyTouchesTestModules } from "../../src/mine/rust-tests.ts";

describe("classifyPath", () => {
  const cases: [string, "test" | "code" | "other"][] = [
    // Python
    ["tests/test_core.py", "test"],
    ["pkg/test_util.py", "test"],
    ["pkg/util_test.py", "test"],
    ["conftest.py", "test"],
    ["pkg/core.py", "code"],
    ["docs/conf.py", "other"],
    // JS / TS
    ["src/__tests__/a.js", "test"],
    ["src/a.test.ts", "test"],
    ["src/a.spec.tsx", "test"],
    ["index.test-d.ts", "test"],
    ["test/retry.js", "test"],
    ["src/index.ts", "code"],
    ["dist/index.min.js", "other"],
    ["package-lock.json", "other"],
    // Go
    ["cmd/root_test.go", "test"],
    ["pkg/testdata/in.txt", "test"],
    ["cmd/root.go", "code"],
    ["go.sum", "other"],
    // Rust
    ["tests/integration.rs", "test"],
    ["benches/speed.rs", "test"],
    ["src/lib.rs", "code"],
    ["Cargo.lock", "other"],
    // JVM
    ["core/src/test/java/org/x/FooTest.java", "test"],
    ["core/src/main/java/org/x/Foo.java", "code"],
    ["app/src/main/kotlin/Foo.kt", "code"],
    // C / C++
    ["test/parser.c", "test"],
    ["src/parser_unittest.cc", "test"],
    ["src/parser.cc", "code"],
    ["include/parser.h", "code"],
    // C#
    ["Lib.Tests/ParserTests.cs", "test"],
    ["Lib/Parser.cs", "code"],
    // other
    ["README.md", "other"],
    [".github/workflows/ci.yml", "other"],
    [".gitignore", "other"],
    ["assets/logo.png", "other"],
    ["tests/fixtures/logo.png", "test"],
    ["Makefile", "other"],
    ["CHANGELOG", "other"],
    ["scripts/release.sh", "code"],
    // Build and packaging scripts are not code, even with a source extension.
    ["setup.py", "other"],
    ["numpy/core/setup.py", "other"],
    ["noxfile.py", "other"],
    ["tox.ini", "other"],
    ["CMakeLists.txt", "other"],
    ["src/CMakeLists.txt", "other"],
    ["build.gradle", "other"],
    ["build.gradle.kts", "other"],
    ["settings.gradle.kts", "other"],
    ["app/build.gradle.kts", "other"],
    ["buildSrc/src/main/kotlin/conventions.kt", "other"],
    ["project/Dependencies.scala", "other"],
    ["build.sbt", "other"],
    ["webpack.config.js", "other"],
    ["packages/ui/vite.config.ts", "other"],
    ["jest.config.cjs", "other"],
    ["Gruntfile.js", "other"],
    ["src/config.ts", "code"],
    ["pkg/setup_utils.py", "code"],
    // Generated files.
    ["api/v1/service.pb.go", "other"],
    ["proto/service_pb2.py", "other"],
    ["proto/service_pb2_grpc.py", "other"],
    ["proto/service_pb2.pyi", "other"],
    ["web/gen/service_pb.js", "other"],
    ["src/schema.gen.ts", "other"],
    ["internal/api.gen.go", "other"],
    ["src/generated/client.ts", "other"],
    ["src/__generated__/query.graphql.ts", "other"],
    ["pkg/apis/v1/zz_generated.deepcopy.go", "other"],
    ["src/Form1.Designer.cs", "other"],
    ["src/generator.py", "code"],
    ["src/gen/codegen.go", "code"],
    // JVM: src/main/ is production code whatever the class or package is called.
    ["core/src/main/java/org/x/ContractTest.java", "code"],
    ["lib/src/main/kotlin/org/x/LoadTests.kt", "code"],
    ["spring-test/src/main/java/org/springframework/test/context/TestContext.java", "code"],
    ["core/src/test/java/org/x/ContractTest.java", "test"],
    ["src/test/scala/x/ParserSpec.scala", "test"],
    ["lib/FooTest.java", "test"],
    // testing/: the test suite at the repository root, library code inside a package.
    ["testing/test_assertion.py", "test"],
    ["testing/python/fixtures.py", "test"],
    ["numpy/testing/_private/utils.py", "code"],
    ["numpy/testing/overrides.py", "code"],
    ["numpy/testing/tests/test_utils.py", "test"],
    ["packages/core/testing/src/test_bed.ts", "code"],
    ["packages/core/testing/src/fake_async.ts", "code"],
    ["staging/client-go/testing/fixture.go", "code"],
  ];
  it.each(cases)("%s → %s", (path, kind) => {
    expect(classifyPath(path)).toBe(kind);
  });

  it("maps extensions to languages", () => {
    expect(languageOf("a/b.py")).toBe("python");
    expect(languageOf("a/b.tsx")).toBe("typescript");
    expect(languageOf("a/b.hpp")).toBe("cpp");
    expect(languageOf("a/b.sh")).toBe("other");
    expect(languageOf("Makefile")).toBeUndefined();
  });

  it("ranks languages by code files, ties broken by test files", () => {
    expect(
      rankLanguages([
        { path: "a.py", kind: "code" },
        { path: "b.go", kind: "code" },
        { path: "b_test.go", kind: "test" },
        { path: "x.md", kind: "other" },
      ]),
    ).toEqual(["go", "python"]);
    expect(
      rankLanguages([
        { path: "a.js", kind: "code" },
        { path: "b.ts", kind: "code" },
        { path: "c.ts", kind: "code" },
      ]),
    ).toEqual(["typescript", "javascript"]);
  });
});

describe("issue references and PR titles", () => {
  it("tells closing references from mentions, case-insensitive, with GitHub's keywords", () => {
    const refs = parseIssueRefs(
      "FIXES #12, closes #3. Resolves acme/tool#4 and fix: #5\nSee #7 and other/repo#8; Fixed GH-9. " +
        "resolved https://github.com/acme/tool/issues/10",
      "acme/tool",
      [99],
    );
    const closing = refs.filter((r) => r.closing).map((r) => r.number);
    const mentions = refs.filter((r) => !r.closing).map((r) => r.number);
    expect(closing.sort((a, b) => a - b)).toEqual([3, 4, 5, 9, 10, 12]);
    expect(mentions).toEqual([7]);
  });

  it("excludes the PR's own number and ignores code blocks and anchors", () => {
    const refs = parseIssueRefs("Merge of #5\n```\nfixes #6\n```\nsee page.html#7", "a/b", [5]);
    expect(refs).toEqual([]);
  });

  it("recognises merge commits and squash titles", () => {
    expect(parsePrCommit("Merge pull request #42 from me/branch\n\nAdd a thing\n\nFixes #1", 2)).toEqual({
      number: 42,
      style: "merge",
      title: "Add a thing",
      body: "Fixes #1",
    });
    expect(parsePrCommit("Add a thing (#43)\n\n* work", 1)).toEqual({
      number: 43,
      style: "squash",
      title: "Add a thing",
      body: "* work",
    });
    expect(parsePrCommit("Merge pull request #42 from me/branch", 1)).toBeUndefined();
    expect(parsePrCommit("Mention (#4) in the middle of a title", 1)).toBeUndefined();
    expect(parsePrCommit("Merge branch 'main' into dev", 2)).toBeUndefined();
  });
});

describe("Rust #[cfg(test)] rule", () => {
  const src = [
    "pub fn add(a: i32, b: i32) -> i32 {", // 1
    "    a + b", // 2
    "}", // 3
    "", // 4
    "#[cfg(test)]", // 5
    "mod tests {", // 6
    "    use super::*;", // 7
    '    const S: &str = "}{";', // 8
    "    #[test]", // 9
    "    fn adds() {", // 10
    "        assert_eq!(add(1, 2), 3); // }", // 11
    "    }", // 12
    "}", // 13
    "fn after() {}", // 14
  ].join("\n");

  it("finds the test module's lines despite braces in strings and comments", () => {
    expect(cfgTestRanges(src)).toEqual([[5, 13]]);
  });

  const fileWith = (removed: number[], added: number[]) => ({
    ...parseDiff("diff --git a/src/lib.rs b/src/lib.rs\n")[0]!,
    hunks: [{ oldStart: 1, oldLines: 1, newStart: 1, newLines: 1, removed, added }],
  });

  it("counts a change inside the module as test, a mixed change as code", () => {
    expect(onlyTouchesTestModules(fileWith([11], [11]), src, src)).toBe(true);
    expect(onlyTouchesTestModules(fileWith([2], [2]), src, src)).toBe(false);
    expect(onlyTouchesTestModules(fileWith([], [2, 11]), src, src)).toBe(false);
    expect(onlyTouchesTestModules(fileWith([], [14]), src, src)).toBe(false);
  });
});
