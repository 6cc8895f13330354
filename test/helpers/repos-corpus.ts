/**
 * The small projects the verifier corpus (test/fixtures/verifier-corpus) is audited on, one per language.
 * Each PR fixes two code files that its new tests both need, changes a non-code file (a version, a
 * changelog), and the Python one also refactors a file no test loads: what the probes must tell apart.
 */
import { TestRepo } from "./repos.ts";

const PY_CORE = (fixed: boolean) =>
  [
    "from .rounding import round_cents",
    "",
    "",
    "def discount(price, percent):",
    "    return round_cents(price * (100 - percent) / 100)",
    "",
    "",
    "def total(prices, percent=0):",
    ...(fixed
      ? [
          "    subtotal = 0",
          "    rate = percent",
          "    for price in prices:",
          "        reduced = discount(price, rate)",
          "        subtotal += reduced",
          "    return round_cents(subtotal)",
        ]
      : [
          "    # bug: the discount is applied to the first item only",
          "    subtotal = 0",
          "    for i, p in enumerate(prices):",
          "        subtotal += discount(p, percent) if i == 0 else p",
          "    return round_cents(subtotal)",
        ]),
    "",
  ].join("\n");

const PY_ROUNDING = (fixed: boolean) =>
  fixed
    ? [
        "def half_up(cents):",
        "    whole = int(cents)",
        "    if cents - whole >= 0.5:",
        "        whole += 1",
        "    return whole",
        "",
        "",
        "def round_cents(x):",
        "    return half_up(x * 100) / 100",
        "",
      ].join("\n")
    : [
        "def round_cents(x):",
        "    # bug: truncates instead of rounding",
        "    return int(x * 100) / 100",
        "",
      ].join("\n");

const PY_CLI = (fixed: boolean) =>
  [
    "import sys",
    "",
    "from .core import total",
    "",
    "",
    "def main(argv=None):",
    ...(fixed
      ? ["    args = sys.argv[1:] if argv is None else argv", "    amounts = [float(a) for a in args]"]
      : ["    amounts = [float(a) for a in (sys.argv[1:] if argv is None else argv)]"]),
    "    print(total(amounts))",
    "",
  ].join("\n");

const PY_TESTS = (fixed: boolean) =>
  [
    "from pricing.core import discount, total",
    "from pricing.rounding import round_cents",
    "",
    "",
    "def test_discount():",
    "    assert discount(10, 10) == 9.0",
    "",
    "",
    "def test_total_without_discount():",
    "    assert total([1, 2]) == 3",
    "",
    ...(fixed
      ? [
          "",
          "def test_total_discounts_every_item():",
          "    assert total([10, 20], 10) == 27.0",
          "",
          "",
          "def test_round_cents_rounds_half_up():",
          "    assert round_cents(0.126) == 0.13",
          "",
        ]
      : []),
  ].join("\n");

const pyproject = (version: string) =>
  [
    "[build-system]",
    'requires = ["setuptools>=61"]',
    'build-backend = "setuptools.build_meta"',
    "",
    "[project]",
    'name = "pricing"',
    `version = "${version}"`,
    "",
    "[project.optional-dependencies]",
    'test = ["pytest"]',
    "",
    "[tool.setuptools]",
    'packages = ["pricing"]',
    "",
  ].join("\n");

/** pricing: `total` discounts the first item only and `round_cents` truncates; PR #5 fixes both. */
export function corpusPythonProject(): TestRepo {
  const r = new TestRepo("sweu-vc-py-");
  r.commit("Initial pricing package", {
    "pyproject.toml": pyproject("1.0.0"),
    "pricing/__init__.py": "",
    "pricing/core.py": PY_CORE(false),
    "pricing/rounding.py": PY_ROUNDING(false),
    "pricing/cli.py": PY_CLI(false),
    "tests/__init__.py": "",
    "tests/test_core.py": PY_TESTS(false),
    "CHANGELOG.md": "# Changes\n\n## 1.0.0\n\n- First release.\n",
    "README.md": "# pricing\n",
  });
  r.mergePr(
    5,
    "fix-discounts",
    "Apply the discount to every item",
    "total() discounted only the first item.",
    [
      {
        "pricing/core.py": PY_CORE(true),
        "pricing/rounding.py": PY_ROUNDING(true),
        "pricing/cli.py": PY_CLI(true),
        "tests/test_core.py": PY_TESTS(true),
        "pyproject.toml": pyproject("1.1.0"),
        "CHANGELOG.md":
          "# Changes\n\n## 1.1.0\n\n- The discount applies to every item.\n\n## 1.0.0\n\n- First release.\n",
      },
    ],
  );
  return r;
}

const JS_STRS = (fixed: boolean) =>
  fixed
    ? [
        "import { width } from './width.js';",
        "",
        "export function truncate(s, n) {",
        "  const mark = '…';",
        "  const limit = n;",
        "  if (width(s) <= limit) return s;",
        "  const kept = Array.from(s).slice(0, limit).join('');",
        "  return kept + mark;",
        "}",
        "",
      ].join("\n")
    : [
        "import { width } from './width.js';",
        "",
        "export function truncate(s, n) {",
        "  // bug: keeps one character too many",
        "  return width(s) > n ? s.slice(0, n + 1) + '…' : s;",
        "}",
        "",
      ].join("\n");

const JS_WIDTH = (fixed: boolean) =>
  fixed
    ? [
        "export function codepoints(s) {",
        "  return Array.from(s);",
        "}",
        "",
        "export function width(s) {",
        "  return codepoints(s).length;",
        "}",
        "",
      ].join("\n")
    : [
        "export function width(s) {",
        "  // bug: counts UTF-16 units, not characters",
        "  return s.length;",
        "}",
        "",
      ].join("\n");

const JS_TESTS = (fixed: boolean) =>
  [
    "import { test } from 'node:test';",
    "import assert from 'node:assert/strict';",
    "import { truncate } from '../src/strs.js';",
    "import { width } from '../src/width.js';",
    "",
    "test('short strings stay', () => {",
    "  assert.equal(truncate('ab', 3), 'ab');",
    "});",
    "",
    ...(fixed
      ? [
          "test('truncate keeps n characters', () => {",
          "  assert.equal(truncate('abcdef', 3), 'abc…');",
          "});",
          "",
          "test('width counts characters', () => {",
          "  assert.equal(width('😀a'), 2);",
          "});",
          "",
        ]
      : []),
  ].join("\n");

const pkg = (version: string) =>
  `${JSON.stringify({ name: "strs", version, type: "module", scripts: { test: "node --test" }, engines: { node: ">=20" } }, null, 2)}\n`;

/** strs: `truncate` keeps a character too many and `width` counts UTF-16 units; PR #6 fixes both. */
export function corpusNodeProject(): TestRepo {
  const r = new TestRepo("sweu-vc-js-");
  r.commit("Initial strs package", {
    "package.json": pkg("1.0.0"),
    "src/strs.js": JS_STRS(false),
    "src/width.js": JS_WIDTH(false),
    "test/strs.test.js": JS_TESTS(false),
    "CHANGELOG.md": "# Changes\n\n## 1.0.0\n\n- First release.\n",
  });
  r.squashPr(6, "truncate keeps n characters", "Fixes #4", {
    "package.json": pkg("1.0.1"),
    "src/strs.js": JS_STRS(true),
    "src/width.js": JS_WIDTH(true),
    "test/strs.test.js": JS_TESTS(true),
    "CHANGELOG.md":
      "# Changes\n\n## 1.0.1\n\n- truncate keeps n characters.\n\n## 1.0.0\n\n- First release.\n",
  });
  return r;
}

const GO_CLAMP = (fixed: boolean) =>
  fixed
    ? `package calc

// Clamp limits x to [lo, hi]: values above hi become hi.
func Clamp(x, lo, hi int) int {
	low := lo
	top := hi
	if x < low {
		return low
	}
	return Min(x, top)
}
`
    : `package calc

// Clamp limits x to [lo, hi].
func Clamp(x, lo, hi int) int {
	// bug: the upper bound is never applied
	if x < lo {
		return lo
	}
	return x
}
`;

const GO_MINMAX = (fixed: boolean) => `package calc

// Min returns the smaller of a and b.
func Min(a, b int) int {
${fixed ? "\tif a < b {\n\t\treturn a\n\t}\n\treturn b" : "\t// bug: returns the larger one\n\tif a > b {\n\t\treturn a\n\t}\n\treturn b"}
}
`;

const GO_TESTS = (fixed: boolean) => `package calc

import "testing"

func TestClampLow(t *testing.T) {
	if got := Clamp(-5, 0, 10); got != 0 {
		t.Fatalf("Clamp(-5, 0, 10) = %d", got)
	}
}
${
  fixed
    ? `
func TestClampHigh(t *testing.T) {
	if got := Clamp(50, 0, 10); got != 10 {
		t.Fatalf("Clamp(50, 0, 10) = %d, want 10", got)
	}
}

func TestMin(t *testing.T) {
	if got := Min(3, 7); got != 3 {
		t.Fatalf("Min(3, 7) = %d, want 3", got)
	}
}
`
    : ""
}`;

/** calc: Clamp ignores its upper bound and Min returns the larger value; PR #7 fixes both. */
export function corpusGoProject(): TestRepo {
  const r = new TestRepo("sweu-vc-go-");
  r.commit("Initial calc module", {
    "go.mod": "module example.com/calc\n\ngo 1.22\n",
    "calc/clamp.go": GO_CLAMP(false),
    "calc/minmax.go": GO_MINMAX(false),
    "calc/calc_test.go": GO_TESTS(false),
    "CHANGELOG.md": "# Changes\n\n## v1.0.0\n\n- First release.\n",
  });
  r.mergePr(7, "fix-clamp", "Clamp applies the upper bound", "Clamp(50, 0, 10) returns 50.", [
    {
      "calc/clamp.go": GO_CLAMP(true),
      "calc/minmax.go": GO_MINMAX(true),
      "calc/calc_test.go": GO_TESTS(true),
      "CHANGELOG.md":
        "# Changes\n\n## v1.0.1\n\n- Clamp applies the upper bound.\n\n## v1.0.0\n\n- First release.\n",
    },
  ]);
  return r;
}
