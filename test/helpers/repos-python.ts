import { TestRepo } from "./repos.ts";

const WORDS = (fixed: boolean) =>
  [
    "def title_case(s):",
    '    return " ".join(w.capitalize() for w in s.split(" "))',
    "",
    "",
    "def count_words(s):",
    ...(fixed
      ? ["    return len(s.split())"]
      : [
          '    # bug: "".split(" ") is [""], so an empty string has one word',
          '    return len(s.split(" "))',
        ]),
    "",
  ].join("\n");

const WORDS_TEST = (withEmpty: boolean) =>
  [
    "import unittest",
    "",
    "from shout.words import count_words, title_case",
    "",
    "",
    "class TitleCaseTest(unittest.TestCase):",
    "    def test_title(self):",
    '        self.assertEqual(title_case("hello world"), "Hello World")',
    "",
    "",
    "class CountWordsTest(unittest.TestCase):",
    "    def test_simple(self):",
    '        self.assertEqual(count_words("a b c"), 3)',
    ...(withEmpty
      ? [
          "",
          "    def test_empty(self):",
          '        """An empty string has no words."""',
          '        self.assertEqual(count_words(""), 0)',
        ]
      : []),
    "",
    "",
    'if __name__ == "__main__":',
    "    unittest.main()",
    "",
  ].join("\n");

/**
 * A unittest-only Python package: no pytest anywhere (no requirement, no conftest.py, no [tool.pytest]),
 * its CI runs `python -m unittest discover`. PR #4 fixes count_words("") and adds a TestCase method with
 * a docstring (unittest -v prints it before the status). tests/test_misc.py is not the PR's and must not run.
 */
export function pythonUnittestProject(): TestRepo {
  const r = new TestRepo("sweu-pyut-");
  r.commit("Initial shout package", {
    "pyproject.toml": [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "",
      "[project]",
      'name = "shout"',
      'version = "0.1.0"',
      "",
    ].join("\n"),
    "shout/__init__.py": "",
    "shout/words.py": WORDS(false),
    "tests/__init__.py": "",
    "tests/test_words.py": WORDS_TEST(false),
    "tests/test_misc.py": [
      "import unittest",
      "",
      "import shout",
      "",
      "",
      "class MiscTest(unittest.TestCase):",
      "    def test_import(self):",
      "        self.assertTrue(shout)",
      "",
    ].join("\n"),
    ".github/workflows/ci.yml": [
      "name: ci",
      "on: [push]",
      "jobs:",
      "  test:",
      "    runs-on: ubuntu-latest",
      "    steps:",
      "      - uses: actions/checkout@v4",
      "      - run: python -m pip install -e .",
      "      - run: python -m unittest discover -v",
      "",
    ].join("\n"),
    "README.md": "# shout\n",
  });
  r.mergePr(4, "fix-empty-count", "count_words counts one word in an empty string", "Fixes #3", [
    { "shout/words.py": WORDS(true), "tests/test_words.py": WORDS_TEST(true) },
  ]);
  return r;
}

/**
 * A package whose install leaves a stale build cache: setup.py copies snap/*.py into the ignored
 * `.snapshot/` unless a copy is already there (as build caches do). PRs #31 and #32 have the same
 * manifests, so they share one environment; built at #32's base commit, that environment's cache holds
 * #31's fix.
 */
export function pythonProjectWithStaleCache(): TestRepo {
  const r = new TestRepo("sweu-pysnap-");
  const ops = (fixed: { shout?: boolean; squash?: boolean }) =>
    [
      "def shout(text):",
      fixed.shout
        ? '    return text.strip().upper() + " (shouted)"'
        : '    return text.upper() + " (shouted)"',
      "",
      "",
      "def squash(text):",
      fixed.squash
        ? '    return " ".join(part for part in text.split() if part)'
        : '    return " ".join(text.split(" "))',
      "",
    ].join("\n");
  const tests = (extra: string[]) =>
    [
      "from snap.ops import shout, squash",
      "",
      "",
      "def test_base():",
      '    assert shout("a") == "A (shouted)"',
      "",
      ...extra,
    ].join("\n");
  r.commit("Initial snap package", {
    "pyproject.toml": [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "",
      "[project]",
      'name = "snap"',
      'version = "0.1.0"',
      "",
      "[project.optional-dependencies]",
      'test = ["pytest"]',
      "",
      "[tool.setuptools]",
      'packages = ["snap"]',
      "",
    ].join("\n"),
    "setup.py": [
      "import pathlib",
      "import shutil",
      "",
      "from setuptools import setup",
      "",
      'cache = pathlib.Path(__file__).parent / ".snapshot"',
      "cache.mkdir(exist_ok=True)",
      'for source in (pathlib.Path(__file__).parent / "snap").glob("*.py"):',
      "    if not (cache / source.name).exists():",
      "        shutil.copy(source, cache / source.name)",
      "",
      "setup()",
      "",
    ].join("\n"),
    ".gitignore": ".snapshot/\n*.egg-info/\n",
    "snap/__init__.py": "",
    "snap/ops.py": ops({}),
    "tests/test_ops.py": tests([]),
  });
  r.squashPr(31, "shout strips surrounding spaces", "", {
    "snap/ops.py": ops({ shout: true }),
    "tests/test_ops.py": tests([
      "",
      "def test_shout_strips():",
      '    assert shout(" hi ") == "HI (shouted)"',
      "",
    ]),
  });
  r.squashPr(32, "squash collapses runs of spaces", "", {
    "snap/ops.py": ops({ shout: true, squash: true }),
    "tests/test_ops.py": tests(["", "def test_squash():", '    assert squash("a  b") == "a b"', ""]),
  });
  return r;
}
