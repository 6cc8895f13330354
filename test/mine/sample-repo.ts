import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { TestRepo } from "./helpers.ts";

const APP = Array.from({ length: 30 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n`).join("");
const LIB_RS = [
  "pub fn add(a: i32, b: i32) -> i32 {",
  "    a + b",
  "}",
  "",
  "#[cfg(test)]",
  "mod tests {",
  "    use super::*;",
  "    #[test]",
  "    fn adds() {",
  "        assert_eq!(add(1, 2), 3);",
  "    }",
  "}",
  "",
].join("\n");

/** What each PR of the sample repository should become. */
export const EXPECTED: Record<number, string> = {
  1: "task",
  2: "no_test_change",
  3: "no_code_change",
  4: "binary_only",
  5: "submodule_change",
  6: "undecodable_diff",
  7: "unsupported_language",
  8: "empty_diff",
  9: "too_large",
  10: "task",
  11: "task",
};

/**
 * A repository with eleven merged PRs (merge commits and squashes) covering every mine outcome,
 * plus commits that are not PRs. Returns the repo and the resolved commit of each PR.
 */
export function buildSampleRepo(): { repo: TestRepo; prs: Record<number, string>; base: string } {
  const r = new TestRepo();
  r.write("src/app.py", APP)
    .write("tests/test_app.py", "from src.app import f1\n\ndef test_f1():\n    assert f1(1) == 2\n")
    .write("README.md", "# sample\n")
    .write("src/lib.rs", LIB_RS)
    .write("src/other.rs", "pub fn other() -> i32 { 1 }\n")
    .write("win.py", "a = 1\r\nb = 2\r\n")
    .write("tool.sh", "echo hi\n", 0o644);
  const base = r.commit("initial import");
  const prs: Record<number, string> = {};
  prs[1] = r.mergePr(
    1,
    "Fix f2 off by one",
    (x) => {
      x.write("src/app.py", APP.replace("return x + 2\n", "return x + 2  # fixed\n"));
      x.write("tests/test_app.py", "from src.app import f1, f2\n\ndef test_f2():\n    assert f2(1) == 3\n");
    },
    "Fixes #20 and relates to #21",
  );
  prs[2] = r.squashPr(2, "Speed up f3", (x) =>
    x.write("src/app.py", APP.replace("return x + 3\n", "return 3 + x\n")),
  );
  r.commit("a direct commit that is not a PR, mentioning (#3) in the middle");
  prs[3] = r.squashPr(3, "Docs", (x) => x.write("README.md", "# sample\n\nMore words.\n"));
  prs[4] = r.mergePr(4, "New logo", (x) =>
    x.write("logo.png", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2])),
  );
  prs[5] = r.squashPr(5, "Vendor a library", (x) => {
    const sub = join(x.dir, "vendor", "lib");
    mkdirSync(sub, { recursive: true });
    new TestRepo(sub).write("lib.c", "int x;\n").commit("library");
    x.write("src/app.py", APP.replace("return x + 5\n", "return x + 55\n"));
    x.write("tests/test_app.py", "def test_nothing():\n    pass\n");
  });
  prs[6] = r.squashPr(6, "Latin-1 source", (x) =>
    x.write("src/legacy.py", Buffer.from("s = 'caf\xe9'\n", "latin1")),
  );
  prs[7] = r.squashPr(7, "Shell tweak", (x) => x.write("tool.sh", "echo hello\n"));
  prs[8] = r.squashPr(8, "Nothing at all", () => {});
  prs[9] = r.mergePr(9, "Big change", (x) => {
    for (let i = 0; i < 8; i++) x.write(`src/gen${i}.py`, `x = ${i}\n`);
    x.write("tests/test_gen.py", "def test_gen():\n    pass\n");
  });
  prs[10] = r.squashPr(10, "Rust: test inside the module, code elsewhere", (x) => {
    x.write("src/lib.rs", LIB_RS.replace("assert_eq!(add(1, 2), 3);", "assert_eq!(add(2, 2), 4);"));
    x.write("src/other.rs", "pub fn other() -> i32 { 2 }\n");
  });
  prs[11] = r.mergePr(
    11,
    "Rename, mode change and CRLF",
    (x) => {
      x.git("mv", "src/app.py", "src/application.py");
      x.write("src/application.py", APP.replace("return x + 9\n", "return x + 99\n"));
      x.write("tool.sh", "echo hi\n", 0o755);
      x.write("win.py", "a = 1\r\nb = 3\r\n");
      x.write("tests/test_app.py", "def test_renamed():\n    pass\n");
    },
    "Closes #30",
  );
  return { repo: r, prs, base };
}
