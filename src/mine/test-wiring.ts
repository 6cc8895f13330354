import { basename } from "node:path";
import type { FileDiff } from "./diff.ts";

/**
 * Build scripts that list a project's sources: a PR that adds a test file often adds one line here to
 * compile it (uriparser #298: `add_executable(testrunner … test/CompareRangeLengthWrap.cpp …)`).
 */
const BUILD_SCRIPT = /(^|\/)(CMakeLists\.txt|meson\.build|Makefile(\.am|\.in)?|GNUmakefile|BUILD(\.bazel)?)$/;

/**
 * Whether a build-script section only wires the PR's test files into the build: every line it adds or
 * removes (blank ones aside) names one of them. Such a section belongs with the tests: in the gold patch, the
 * buggy state never compiles the new tests (its runs pass: `buggy_passes`), and an agent would have to guess
 * the hidden test's file name to be graded. A section that changes anything else stays in the gold patch.
 */
export function wiresOnlyTests(f: FileDiff, tests: FileDiff[]): boolean {
  if (!BUILD_SCRIPT.test(f.path) || f.binary || f.status !== "modified") return false;
  const names = tests.map((t) => basename(t.path)).filter((n) => n.length >= 4);
  if (!names.length) return false;
  const changed = f.text
    .split("\n")
    .filter((l) => /^[+-]/.test(l) && !l.startsWith("+++ ") && !l.startsWith("--- "))
    .map((l) => l.slice(1).trim())
    .filter((l) => l !== "");
  return changed.length > 0 && changed.every((l) => names.some((n) => l.includes(n)));
}
