import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A real git repository built by a test: files, commits, branches and merge commits like GitHub makes. */
export class TestRepo {
  readonly dir: string;
  private clock = 1_700_000_000;

  constructor(prefix = "sweu-repo-") {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    this.git("init", "-q", "-b", "main");
    this.git("config", "user.email", "dev@example.com");
    this.git("config", "user.name", "Dev");
    this.git("config", "commit.gpgsign", "false");
  }

  git(...args: string[]): string {
    this.clock += 60;
    const date = `${this.clock} +0000`;
    return execFileSync("git", args, {
      cwd: this.dir,
      encoding: "utf8",
      env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    }).trim();
  }

  write(files: Record<string, string>): void {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.dir, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }

  commit(message: string, files: Record<string, string> = {}): string {
    this.write(files);
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }

  /** A PR merged with a merge commit, as GitHub's "Create a merge commit" does. */
  mergePr(
    number: number,
    branch: string,
    title: string,
    body: string,
    commits: Record<string, string>[],
  ): string {
    this.git("checkout", "-q", "-b", branch);
    for (const [i, files] of commits.entries()) this.commit(`${title} (part ${i + 1})`, files);
    this.git("checkout", "-q", "main");
    this.git(
      "merge",
      "-q",
      "--no-ff",
      branch,
      "-m",
      `Merge pull request #${number} from dev/${branch}\n\n${title}\n\n${body}`,
    );
    return this.git("rev-parse", "HEAD");
  }

  /** A squash-merged PR: one commit on main titled "… (#N)". */
  squashPr(number: number, title: string, body: string, files: Record<string, string>): string {
    return this.commit(`${title} (#${number})\n\n${body}`, files);
  }
}

/** The calc package of pythonProject: clamp ignores its upper bound until it is fixed. */
const CALC = {
  pyproject: [
    "[build-system]",
    'requires = ["setuptools>=61"]',
    'build-backend = "setuptools.build_meta"',
    "",
    "[project]",
    'name = "calc"',
    'version = "0.1.0"',
    "",
    "[project.optional-dependencies]",
    'test = ["pytest"]',
    "",
  ].join("\n"),
  ops: (fixed: boolean) =>
    [
      "def add(a, b):",
      "    return a + b",
      "",
      "",
      "def mul(a, b):",
      "    return a * b",
      "",
      "",
      "def clamp(x, lo, hi):",
      ...(fixed
        ? ["    return min(hi, max(lo, x))"]
        : ["    # bug: the upper bound is never applied", "    return max(lo, x)"]),
      "",
    ].join("\n"),
  tests: (withHigh: boolean) =>
    [
      "from calc import add, mul, clamp",
      "",
      "",
      "def test_add():",
      "    assert add(2, 3) == 5",
      "",
      "",
      "def test_mul():",
      "    assert mul(2, 3) == 6",
      "",
      "",
      "def test_clamp_low():",
      "    assert clamp(-5, 0, 10) == 0",
      "",
      ...(withHigh ? ["", "def test_clamp_high():", "    assert clamp(50, 0, 10) == 10", ""] : []),
    ].join("\n"),
};

function calcInitial(prefix: string): TestRepo {
  const r = new TestRepo(prefix);
  r.commit("Initial calc package", {
    "pyproject.toml": CALC.pyproject,
    "calc/__init__.py": "from .ops import add, mul, clamp\n",
    "calc/ops.py": CALC.ops(false),
    "tests/__init__.py": "",
    "tests/test_ops.py": CALC.tests(false),
    "README.md": "# calc\n",
  });
  return r;
}

/** A small Python package with a real bug, fixed by PR #1 with a new test (pytest). */
export function pythonProject(): TestRepo {
  const r = calcInitial("sweu-py-");
  r.mergePr(1, "fix-clamp", "Fix clamp upper bound", "clamp ignored hi.\n\nFixes #7", [
    { "calc/ops.py": CALC.ops(true), "tests/test_ops.py": CALC.tests(true) },
  ]);
  return r;
}

/**
 * pythonProject whose fix also bumps the package's version in pyproject.toml, as release-minded PRs do: the
 * gold patch changes a dependency manifest, so the environment installs from the resolved commit's copy
 * (the Dockerfile's `COPY deps-overlay/`).
 */
export function pythonProjectBumpingVersion(): TestRepo {
  const r = calcInitial("sweu-pybump-");
  r.mergePr(1, "fix-clamp", "Fix clamp upper bound", "clamp ignored hi.\n\nFixes #7", [
    {
      "calc/ops.py": CALC.ops(true),
      "tests/test_ops.py": CALC.tests(true),
      "pyproject.toml": CALC.pyproject.replace('version = "0.1.0"', 'version = "0.1.1"'),
    },
  ]);
  return r;
}

/**
 * pythonProject whose PRs change code only, as most PRs do (Scale-SWE's case for a unit-test creator):
 * #1 fixes clamp (merge commit), #2 adds `sub` (squash-merged). Both are mined as tasks needing generated tests.
 */
export function pythonProjectWithoutTests(): TestRepo {
  const r = calcInitial("sweu-pynotest-");
  r.mergePr(1, "fix-clamp", "Fix clamp upper bound", "clamp ignored hi.\n\nFixes #7", [
    { "calc/ops.py": CALC.ops(true) },
  ]);
  r.squashPr(2, "Add sub", "Subtraction was missing.", {
    "calc/ops.py": `${CALC.ops(true)}\n\ndef sub(a, b):\n    return a - b\n`,
    "calc/__init__.py": "from .ops import add, mul, clamp, sub\n",
  });
  return r;
}

/** A small Node package (node:test, no dependencies) with a bug fixed by squash-merged PR #2. */
export function nodeProject(): TestRepo {
  const r = new TestRepo("sweu-js-");
  r.commit("Initial strings package", {
    "package.json": JSON.stringify(
      {
        name: "strs",
        version: "1.0.0",
        type: "module",
        scripts: { test: "node --test" },
        engines: { node: ">=20" },
      },
      null,
      2,
    ),
    "src/strs.js": [
      "export function capitalize(s) {",
      "  return s.charAt(0).toUpperCase() + s.slice(1);",
      "}",
      "",
      "export function truncate(s, n) {",
      "  // bug: off by one, keeps n + 1 characters",
      "  return s.length > n ? s.slice(0, n + 1) + '…' : s;",
      "}",
      "",
    ].join("\n"),
    "test/strs.test.js": [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "import { capitalize } from '../src/strs.js';",
      "",
      "test('capitalize', () => {",
      "  assert.equal(capitalize('abc'), 'Abc');",
      "});",
      "",
    ].join("\n"),
  });
  r.squashPr(2, "Fix truncate keeping one character too many", "Closes #5", {
    "src/strs.js": [
      "export function capitalize(s) {",
      "  return s.charAt(0).toUpperCase() + s.slice(1);",
      "}",
      "",
      "export function truncate(s, n) {",
      "  return s.length > n ? s.slice(0, n) + '…' : s;",
      "}",
      "",
    ].join("\n"),
    "test/strs.test.js": [
      "import { test } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "import { capitalize, truncate } from '../src/strs.js';",
      "",
      "test('capitalize', () => {",
      "  assert.equal(capitalize('abc'), 'Abc');",
      "});",
      "",
      "test('truncate', () => {",
      "  assert.equal(truncate('abcdef', 3), 'abc…');",
      "  assert.equal(truncate('ab', 3), 'ab');",
      "});",
      "",
    ].join("\n"),
  });
  return r;
}

/**
 * A Python project whose PRs fail in the ways real ones do: a test that hangs (#11), a test that needs
 * the network (#12), a gold patch that does not apply in the environment (#13 commits `m_version.py`, the
 * file setup.py writes at install time: `git apply` finds it already there), a JavaScript part whose Node
 * toolchain the image cannot fetch (#15: the Node release the registry lists has no tarball there, see
 * brokenNpmRegistry in test/e2e/bad-input.test.ts), and an install that cannot succeed (#14, a
 * requirement that does not exist).
 */
export function troubledPythonProject(): TestRepo {
  const r = new TestRepo("sweu-bad-");
  const setup = {
    "setup.py": [
      "import os",
      "from setuptools import setup",
      "",
      "here = os.path.dirname(os.path.abspath(__file__))",
      "with open(os.path.join(here, 'm_version.py'), 'w') as f:",
      "    f.write(\"VERSION = '0.1'\\n\")",
      "setup(name='m', version='0.1', py_modules=['m'])",
      "",
    ].join("\n"),
  };
  r.commit("Initial", {
    ...setup,
    "m.py": "def f():\n    return 1\n",
    "test_m.py": "from m import f\n\ndef test_f():\n    assert f() == 1\n",
  });
  r.squashPr(11, "Add g", "", {
    "m.py": "def f():\n    return 1\n\ndef g():\n    return 2\n",
    "test_g.py": "import time\nfrom m import g\n\ndef test_g():\n    time.sleep(3600)\n    assert g() == 2\n",
  });
  r.squashPr(12, "Add h", "", {
    "m.py": "def f():\n    return 1\n\ndef g():\n    return 2\n\ndef h():\n    return 3\n",
    "test_h.py":
      "import urllib.request\nfrom m import h\n\ndef test_h():\n    urllib.request.urlopen('http://deb.debian.org/', timeout=5)\n    assert h() == 3\n",
  });
  const m =
    "from m_version import VERSION\n\ndef f():\n    return 1\n\ndef g():\n    return 2\n\ndef h():\n    return 3\n\ndef version():\n    return VERSION\n";
  r.squashPr(13, "Report the version", "", {
    "m.py": m,
    "m_version.py": "VERSION = '0.2'\n",
    "test_version.py": "from m import version\n\ndef test_version():\n    assert version() == '0.2'\n",
  });
  const fmt = (fixed: boolean) =>
    `export function pad(s, n) {\n  return ${fixed ? "s.padStart(n)" : "s.padStart(n - 1)"};\n}\n`;
  r.commit("Add a JS formatter", {
    "package.json": `${JSON.stringify({ name: "m-js", version: "1.0.0", type: "module", scripts: { test: "node --test" } }, null, 2)}\n`,
    "js/fmt.js": fmt(false),
    "js/fmt.test.js":
      "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { pad } from './fmt.js';\n\ntest('pad short', () => assert.equal(pad('ab', 1), 'ab'));\n",
  });
  r.squashPr(15, "pad pads to the full width", "", {
    "js/fmt.js": fmt(true),
    "js/fmt.test.js":
      "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { pad } from './fmt.js';\n\ntest('pad short', () => assert.equal(pad('ab', 1), 'ab'));\ntest('pad', () => assert.equal(pad('a', 3), '  a'));\n",
  });
  r.commit("Unrelated cleanup", { "README.md": "m\n" });
  r.commit("Pin a requirement", { "requirements.txt": "sweu-this-package-does-not-exist==9.9.9\n" });
  r.squashPr(14, "Add k", "", {
    "m.py": `${m}\ndef k():\n    return 4\n`,
    "test_k.py": "from m import k\n\ndef test_k():\n    assert k() == 4\n",
  });
  return r;
}

/**
 * A Python package with three merged PRs: #21 and #22 leave the dependency manifests alone (they can share
 * one environment); a dependency is added before #23 (a new environment, made from the nearest one);
 * #24's own patch adds a dependency (installed from the resolved commit's manifests).
 */
export function pythonProjectManyPrs(): TestRepo {
  const r = new TestRepo("sweu-pymany-");
  const pyproject = (deps: string[]) =>
    [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "[project]",
      'name = "textops"',
      'version = "0.1.0"',
      `dependencies = [${deps.map((d) => JSON.stringify(d)).join(", ")}]`,
      "[project.optional-dependencies]",
      'test = ["pytest"]',
      "",
    ].join("\n");
  const ops = (fixed: { shout?: boolean; words?: boolean; slug?: boolean }) =>
    [
      "def shout(s):",
      fixed.shout ? "    return s.upper() + '!'" : "    return s.upper()",
      "",
      "def words(s):",
      fixed.words ? "    return len(s.split())" : "    return len(s.split(' '))",
      "",
      "def slug(s):",
      fixed.slug ? "    return '-'.join(s.lower().split())" : "    return s.lower().replace(' ', '-')",
      "",
    ].join("\n");
  const tests = (extra: string[]) =>
    [
      "from textops.ops import shout, words, slug",
      "",
      "def test_shout_base():",
      "    assert shout('a').startswith('A')",
      "",
      ...extra,
    ].join("\n");
  r.commit("Initial", {
    "pyproject.toml": pyproject([]),
    "textops/__init__.py": "",
    "textops/ops.py": ops({}),
    "tests/test_ops.py": tests([]),
  });
  r.squashPr(21, "shout adds an exclamation mark", "", {
    "textops/ops.py": ops({ shout: true }),
    "tests/test_ops.py": tests(["def test_shout():", "    assert shout('hi') == 'HI!'", ""]),
  });
  r.squashPr(22, "words ignores repeated spaces", "", {
    "textops/ops.py": ops({ shout: true, words: true }),
    "tests/test_ops.py": tests(["def test_words():", "    assert words('a  b') == 2", ""]),
  });
  r.commit("Depend on six", { "pyproject.toml": pyproject(["six"]) });
  r.squashPr(23, "slug collapses whitespace", "", {
    "textops/ops.py": ops({ shout: true, words: true, slug: true }),
    "tests/test_ops.py": tests(["def test_slug():", "    assert slug('A  b') == 'a-b'", ""]),
  });
  // #24's fix needs a new dependency: the environment must install it although /testbed stays at the base.
  r.squashPr(24, "add punycode", "", {
    "pyproject.toml": pyproject(["six", "idna"]),
    "textops/puny.py": "import idna\n\n\ndef puny(s):\n    return idna.encode(s).decode()\n",
    "tests/test_puny.py":
      "def test_puny():\n    from textops.puny import puny\n\n    assert puny('bücher') == 'xn--bcher-kva'\n",
  });
  return r;
}

/**
 * A Python package that shells out to `jq`, a Debian package no recipe can guess from the repository:
 * PR #1 (a fix with its test) fails under the Python recipe with "No such file or directory: 'jq'" and needs
 * a builder that reads the failure. PR #2's test fetches a web page: a task fault (needs_network).
 */
export function pythonProjectNeedingJq(): TestRepo {
  const r = new TestRepo("sweu-pyjq-");
  const query = (fixed: boolean) =>
    [
      "import json",
      "import subprocess",
      "",
      "",
      "def query(doc, expr):",
      '    """The results of a jq expression over a JSON document."""',
      "    out = subprocess.run(",
      '        ["jq", "-c", expr], input=json.dumps(doc), capture_output=True, text=True, check=True',
      "    )",
      "    return [json.loads(line) for line in out.stdout.splitlines()]",
      "",
      "",
      "def first(doc, expr, default=None):",
      ...(fixed
        ? ["    found = query(doc, expr)", "    return found[0] if found else default"]
        : ["    # bug: an empty result raises IndexError", "    return query(doc, expr)[0]"]),
      "",
    ].join("\n");
  const tests = (extra: string[]) =>
    [
      "from jsonq import first, query",
      "",
      "",
      "def test_query():",
      '    assert query({"a": [1, 2]}, ".a[]") == [1, 2]',
      "",
      ...extra,
    ].join("\n");
  r.commit("Initial jsonq package", {
    "jsonq/__init__.py": "from .query import first, query\n",
    "jsonq/query.py": query(false),
    "tests/__init__.py": "",
    "tests/test_query.py": tests([]),
    "README.md": "# jsonq\n\nNeeds jq (`apt-get install jq`).\n",
  });
  r.squashPr(1, "first returns the default on an empty result", "Fixes #3", {
    "jsonq/query.py": query(true),
    "tests/test_query.py": tests([
      "",
      "def test_first_default():",
      '    assert first({"a": []}, ".a[]", default=0) == 0',
      "",
    ]),
  });
  r.squashPr(2, "Load documents from a URL", "", {
    "jsonq/remote.py":
      "import json\nimport urllib.request\n\n\ndef load(url):\n    with urllib.request.urlopen(url, timeout=5) as f:\n        return json.load(f)\n",
    "tests/test_remote.py":
      "from jsonq.remote import load\n\n\ndef test_load():\n    assert load('http://deb.debian.org/debian/') is not None\n",
  });
  return r;
}
