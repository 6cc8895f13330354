import { TestRepo } from "./repos.ts";

const CALC_BUGGY = `package calc

// Add returns a + b.
func Add(a, b int) int { return a + b }

// Clamp limits x to [lo, hi].
func Clamp(x, lo, hi int) int {
	// bug: the upper bound is never applied
	if x < lo {
		return lo
	}
	return x
}
`;

const CALC_FIXED = `package calc

// Add returns a + b.
func Add(a, b int) int { return a + b }

// Clamp limits x to [lo, hi].
func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}
`;

const CALC_TEST = `package calc

import "testing"

func TestAdd(t *testing.T) {
	if Add(2, 3) != 5 {
		t.Fatal("Add(2, 3) != 5")
	}
}

func TestClampLow(t *testing.T) {
	if Clamp(-5, 0, 10) != 0 {
		t.Fatal("Clamp(-5, 0, 10) != 0")
	}
}
`;

/**
 * A Go module (go 1.22, no dependencies) with two packages; PR #3 fixes Clamp in calc and adds its test.
 * The strs package has a test of its own that must not be selected.
 */
export function goProject(): TestRepo {
  const r = new TestRepo("sweu-go-");
  r.commit("Initial calc module", {
    "go.mod": "module example.com/calc\n\ngo 1.22\n",
    "calc/calc.go": CALC_BUGGY,
    "calc/calc_test.go": CALC_TEST,
    "strs/strs.go":
      'package strs\n\nimport "strings"\n\n// Up upper-cases s.\nfunc Up(s string) string { return strings.ToUpper(s) }\n',
    "strs/strs_test.go":
      'package strs\n\nimport "testing"\n\nfunc TestUp(t *testing.T) {\n\tif Up("a") != "A" {\n\t\tt.Fatal("Up")\n\t}\n}\n',
    "README.md": "# calc\n",
  });
  r.mergePr(3, "fix-clamp", "Clamp ignores the upper bound", "Clamp(50, 0, 10) returns 50.\n\nFixes #2", [
    {
      "calc/calc.go": CALC_FIXED,
      "calc/calc_test.go": `${CALC_TEST}
func TestClampHigh(t *testing.T) {
	if got := Clamp(50, 0, 10); got != 10 {
		t.Fatalf("Clamp(50, 0, 10) = %d, want 10", got)
	}
}
`,
    },
  ]);
  return r;
}

const SUM_TEST = `
func TestSum(t *testing.T) {
	if got := Sum(1, 2, 3); got != 6 {
		t.Fatalf("Sum(1, 2, 3) = %d, want 6", got)
	}
}
`;

/**
 * The calc module at its fixed state, whose PR #4 adds a new function, Sum, and its test to the package's
 * existing test file: without the fix the package's tests do not compile ("undefined: Sum"), so every test
 * of the package is absent from the buggy runs. The base state tells TestAdd and TestClampLow (there before
 * the PR, passing) from TestSum (the PR's).
 */
export function goProjectNewFunction(): TestRepo {
  const r = new TestRepo("sweu-gosum-");
  r.commit("Initial calc module", {
    "go.mod": "module example.com/calc\n\ngo 1.22\n",
    "calc/calc.go": CALC_FIXED,
    "calc/calc_test.go": CALC_TEST,
    "strs/strs.go":
      'package strs\n\nimport "strings"\n\n// Up upper-cases s.\nfunc Up(s string) string { return strings.ToUpper(s) }\n',
    "README.md": "# calc\n",
  });
  r.mergePr(
    4,
    "sum",
    "Summing several numbers needs a loop of Add calls",
    "There is no way to add up a list of numbers in one call: callers write loops of Add. A variadic sum would do, e.g. calc.Sum(1, 2, 3) == 6.",
    [
      {
        "calc/calc.go": `${CALC_FIXED}
// Sum returns the sum of xs.
func Sum(xs ...int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}
`,
        "calc/calc_test.go": `${CALC_TEST}${SUM_TEST}`,
      },
    ],
  );
  return r;
}
