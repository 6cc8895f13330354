import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { dottedModule, python, unittestCommand } from "../../src/builder/recipes/python.ts";
import {
  noxCalls,
  pipArgs,
  pytestConfigured,
  pythonHints,
  shellWords,
  unittestStyle,
} from "../../src/builder/recipes/python-hints.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import { parseUnittest } from "../../src/harness/parsers/python.ts";
import type { Task } from "../../src/records/index.ts";
import { memoryView } from "../helpers/view.ts";

const PYPROJECT = '[project]\nname = "shout"\nversion = "0.1"\n';
const UNITTEST_PATCH = [
  "--- a/tests/test_words.py",
  "+++ b/tests/test_words.py",
  "@@ -8,3 +8,6 @@ class CountWordsTest(unittest.TestCase):",
  "     def test_simple(self):",
  '         self.assertEqual(count_words("a b c"), 3)',
  "+    def test_empty(self):",
  '+        self.assertEqual(count_words(""), 0)',
  "",
].join("\n");
const PYTEST_PATCH = "+++ b/tests/test_words.py\n+def test_empty():\n+    assert count_words('') == 0\n";
const task = (test_patch: string) => ({ language: "python", test_patch, patch: "" }) as unknown as Task;

async function plansOf(
  files: Record<string, string>,
  patch = UNITTEST_PATCH,
  testFiles = ["tests/test_words.py"],
) {
  const r = await python.plans({ view: memoryView(files), task: task(patch), testFiles });
  if ("unavailable" in r) throw new Error(r.unavailable);
  return r;
}

const unittestRepo = {
  "pyproject.toml": PYPROJECT,
  "shout/__init__.py": "",
  "tests/__init__.py": "",
  "tests/test_words.py": "",
};

describe("python recipe: unittest projects", () => {
  it("runs the PR's modules with python -m unittest first when nothing asks for pytest", async () => {
    const plans = await plansOf(unittestRepo);
    expect(plans.map((p) => p.name)).toEqual([
      "python/pip-editable-unittest",
      "python/pythonpath-unittest",
      "python/pip-editable",
      "python/pythonpath",
    ]);
    expect(plans[0]).toMatchObject({ parser: "unittest", test: "python -m unittest -v tests.test_words" });
    expect(plans[0]!.install).toEqual(["pip install -q -e ."]);
    expect(plans[2]).toMatchObject({ parser: "pytest", test: expect.stringContaining("pytest -rA") });
    expect(plans[2]!.install).toContain("pip install -q pytest");
  });

  it("takes the CI's `python -m unittest` as the sign when the PR's tests do not show their style", async () => {
    const ci = {
      ...unittestRepo,
      ".github/workflows/ci.yml": "    steps:\n      - run: python -m unittest -v\n",
    };
    expect((await plansOf(ci, "+++ b/tests/test_words.py\n+x = 1\n"))[0]!.parser).toBe("unittest");
    expect((await plansOf(unittestRepo, "+++ b/tests/test_words.py\n+x = 1\n"))[0]!.parser).toBe("pytest");
  });

  it("keeps pytest first for any sign of pytest, with unittest as the last variant on the same install", async () => {
    const signs: Record<string, string>[] = [
      { "tests/conftest.py": "" },
      { "pytest.ini": "[pytest]\n" },
      { "pyproject.toml": `${PYPROJECT}[tool.pytest.ini_options]\naddopts = "-q"\n` },
      { "setup.cfg": "[tool:pytest]\ntestpaths = tests\n" },
      { "requirements/test.txt": "pytest>=7\n" },
      { "tox.ini": "[testenv]\ncommands = py.test {posargs}\n" },
      { ".github/workflows/test.yml": "      - run: python -m pytest tests\n" },
    ];
    for (const sign of signs) {
      const files = { ...unittestRepo, ...sign };
      expect(pytestConfigured(memoryView(files)), JSON.stringify(sign)).toBe(true);
      const plans = await plansOf(files);
      expect(plans[0]!.parser, JSON.stringify(sign)).toBe("pytest");
      const last = plans.at(-1)!;
      expect(last).toMatchObject({ name: `${plans[0]!.name}+unittest`, parser: "unittest" });
      expect(last.install).toEqual(plans[0]!.install);
      expect(last.test).toBe("python -m unittest -v tests.test_words");
    }
    expect(pytestConfigured(memoryView(unittestRepo))).toBe(false);
  });

  it("leaves pytest-style tests to pytest alone", async () => {
    const plans = await plansOf(unittestRepo, PYTEST_PATCH);
    expect(plans.every((p) => p.parser === "pytest")).toBe(true);
    // unittest.mock is not unittest-style testing.
    expect(unittestStyle("+from unittest import mock\n+import unittest.mock\n+def test_x(): pass\n")).toBe(
      false,
    );
    expect(unittestStyle("+from django.test import TestCase\n")).toBe(true);
    expect(unittestStyle("+import unittest\n")).toBe(true);
  });

  it("names modules by their dotted path only when each directory on the way is a package", () => {
    const v = memoryView({
      "tests/__init__.py": "",
      "src/pkg/__init__.py": "",
      "src/pkg/tests/__init__.py": "",
    });
    expect(dottedModule("tests/test_a.py", v)).toBe("tests.test_a");
    expect(dottedModule("src/pkg/tests/test_b.py", v)).toBe("pkg.tests.test_b");
    expect(dottedModule("test_top.py", v)).toBe("test_top");
    expect(dottedModule("plain/test_c.py", v)).toBeUndefined();
    expect(dottedModule("plain/test_c.py")).toBe("plain.test_c");
    expect(dottedModule("my-tests/test_d.py")).toBeUndefined();
    expect(unittestCommand(["tests/test_a.py", "tests/data/x.json", "tests/helpers.py"], v)).toBe(
      "python -m unittest -v tests.test_a",
    );
    expect(unittestCommand(["my-tests/test_d.py"], v)).toBe(
      "python -m unittest discover -v -s my-tests -p test_d.py",
    );
    expect(unittestCommand([], memoryView({ "tests/test_a.py": "" }))).toBe(
      "python -m unittest discover -v -s tests",
    );
    expect(unittestCommand([], v)).toBe("python -m unittest discover -v");
  });
});

/** Write files into a fresh directory. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "sweu-pyut-"));
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

describe("python recipe: the unittest command on a real interpreter", () => {
  const testCase = (cls: string, body: string) =>
    `import unittest\n\n\nclass ${cls}(unittest.TestCase):\n${body}\n`;
  const files = {
    "lib/__init__.py": "def half(x):\n    return x // 2\n",
    "tests/__init__.py": "",
    "tests/test_half.py": testCase(
      "HalfTest",
      "    def test_even(self):\n        from lib import half\n        self.assertEqual(half(4), 2)\n\n" +
        '    def test_odd(self):\n        """Rounds down."""\n        from lib import half\n        self.assertEqual(half(5), 3)\n',
    ),
    // A plain directory (no __init__.py, a dash in its name) whose test imports its sibling helper.
    "more-tests/helper.py": "VALUE = 7\n",
    "more-tests/test_sibling.py": testCase(
      "SiblingTest",
      "    def test_value(self):\n        from helper import VALUE\n        self.assertEqual(VALUE, 7)\n",
    ),
  };

  it("runs each selected module and prints what the unittest parser names, failing when a test fails", () => {
    const dir = tree(files);
    const view = memoryView(files);
    const test = unittestCommand(["tests/test_half.py", "more-tests/test_sibling.py"], view);
    expect(test).toMatch(
      /^\(rc=0; python -m unittest -v tests\.test_half \|\| rc=1; .*discover.* \|\| rc=1; exit \$rc\)$/,
    );
    // Through evaluation.sh's own line, with python3 standing in for the venv's python.
    const script = renderEvaluationScript({ env: {}, test: test.replaceAll("python -m", "python3 -m") });
    const r = spawnSync("bash", ["-c", script.replace("cd /testbed", `cd ${dir}`)], { encoding: "utf8" });
    expect(r.status).toBe(1);
    const results = Object.fromEntries(parseUnittest(r.stdout).map((t) => [t.name, t.status]));
    expect(results).toEqual({
      "tests.test_half.HalfTest.test_even": "PASSED",
      "tests.test_half.HalfTest.test_odd": "FAILED",
      "test_sibling.SiblingTest.test_value": "PASSED",
    });
  });
});

describe("python recipe: repairs between pytest and unittest", () => {
  const base = {
    name: "python/pip-editable",
    install: ["pip install -q -e ."],
    parser: "pytest",
  } as BuildPlan;

  it("hands a run where pytest collected nothing to unittest, on the same install", () => {
    const plan = {
      ...base,
      test: "python -m pytest -rA -p no:cacheprovider --tb=short --color=no tests/test_a.py",
    };
    const r = python.repair!(plan, "collected 0 items\n\n============ no tests ran in 0.01s ============\n");
    expect(r).toMatchObject({
      name: "python/pip-editable+unittest",
      parser: "unittest",
      install: plan.install,
      test: "python -m unittest -v tests.test_a",
    });
    expect(python.repair!(plan, "1 failed, 2 passed in 0.1s")).toBeUndefined();
  });

  it("does not pip-install the tests' own package, and leaves unittest's command alone on pytest errors", () => {
    const plan = { ...base, parser: "unittest", test: "python -m unittest -v tests.test_a" };
    expect(python.repair!(plan, "ModuleNotFoundError: No module named 'tests.test_a'")).toBeUndefined();
    expect(python.repair!(plan, "ModuleNotFoundError: No module named 'yaml'")!.install.at(-1)).toBe(
      "pip install -q pyyaml",
    );
    expect(python.repair!(plan, "error: unrecognized arguments: --cov")).toBeUndefined();
  });
});

describe("python recipe: hints from tox, nox and GitHub workflows", () => {
  const NOXFILE = [
    "import nox",
    "",
    "@nox.session(python=['3.10', '3.11'])",
    "def tests(session):",
    '    session.install("-r", "requirements-ci.txt")',
    "    session.install(",
    '        "-e",',
    '        ".[test]",',
    "    )",
    '    session.install("hypothesis>=6", "mock", f"django{session.python}", *EXTRA)',
    '    session.install("black", *deps("lint"))',
    '    session.run("pytest", "--import-mode=importlib", "-p", "no:randomly", *session.posargs)',
    "",
    "def docs(session):",
    '    session.install(".[docs]")',
    "",
  ].join("\n");
  const WORKFLOW = [
    "jobs:",
    "  test:",
    "    steps:",
    "      - run: python -m pip install --upgrade pip setuptools",
    "      - run: |",
    '          pip install -e ".[testing]" -c constraints.txt \\',
    "            freezegun 'requests>=2' ${{ matrix.extra }} && echo done",
    "          pip install -r requirements/ci.txt -r missing.txt",
    "          python -m pytest -x --import-mode importlib tests/ # comment",
    "      - run: pip install tox && tox -e py",
    "",
  ].join("\n");
  const files = {
    "pyproject.toml": PYPROJECT,
    "noxfile.py": NOXFILE,
    ".github/workflows/ci.yml": WORKFLOW,
    "requirements-ci.txt": "coverage\n",
    "requirements/ci.txt": "attrs\n",
    "tox.ini": "[testenv]\ndeps =\n    sortedcontainers\n    -rrequirements/ci.txt\n    py38: oldthing\n",
  };

  it("reads shell words, nox calls and pip arguments", () => {
    expect(shellWords(`pip install -e ".[a,b]" 'x>=1' y\\ z && rm -rf /`)).toEqual([
      "pip",
      "install",
      "-e",
      ".[a,b]",
      "x>=1",
      "y z",
    ]);
    expect(shellWords("pytest # tests\n")).toEqual(["pytest"]);
    expect(noxCalls(NOXFILE, "install")[1]).toEqual(["-e", ".[test]"]);
    expect(noxCalls(NOXFILE, "install")[2]).toEqual(["hypothesis>=6", "mock"]);
    expect(
      pipArgs(["-U", "pip", "-r", "req.txt", "--requirement=r2.txt", ".[x, y]", "six", "ruff", "./dist"]),
    ).toEqual({
      packages: ["six"],
      requirements: ["req.txt", "r2.txt"],
      extras: ["x", "y"],
    });
  });

  it("gathers packages, requirement files that exist, test extras and core pytest options", () => {
    const h = pythonHints(memoryView(files));
    expect(h.packages.sort()).toEqual([
      "freezegun",
      "hypothesis>=6",
      "mock",
      "requests>=2",
      "sortedcontainers",
    ]);
    expect(h.requirements.sort()).toEqual(["requirements-ci.txt", "requirements/ci.txt"]);
    expect(h.extras.sort()).toEqual(["test", "testing"]);
    expect(h.pytestOptions).toEqual(["--import-mode=importlib", "-p no:randomly"]);
    expect(h.unittest).toBe(false);
  });

  it("puts the hints into every plan's install and the pytest command", async () => {
    const plans = await plansOf(files, PYTEST_PATCH);
    const first = plans[0]!;
    expect(first.name).toBe("python/pip-editable-extras");
    expect(first.install).toContain("pip install -q -r requirements-ci.txt || true");
    expect(first.install).toContain("pip install -q -e '.[test,testing]'");
    const best = first.install.find((s) => s.includes("freezegun"))!;
    expect(best).toMatch(
      /^pip install -q .*'requests>=2'.* \|\| for p in .*; do pip install -q "\$p" \|\| true; done$/,
    );
    expect(first.test).toBe(
      "python -m pytest -rA -p no:cacheprovider --tb=short --color=no --import-mode=importlib -p no:randomly tests/test_words.py",
    );
    expect(plans.at(-1)!.install).toContain(best);
  });
});
