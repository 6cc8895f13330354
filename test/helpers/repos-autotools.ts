import { TestRepo } from "./repos.ts";
import { CALC_BUGGY, CALC_FIXED, CALC_H } from "./repos-cmake.ts";

const CLAMP_TEST = `#include <stdio.h>
#include "calc.h"
static int failures = 0;
static void check(int got, int want, const char *what) {
  if (got != want) { printf("%s: got %d, want %d\\n", what, got, want); failures++; }
}
int main(void) {
  check(clamp(-5, 0, 10), 0, "low");
`;

/**
 * A C library built with autotools (configure.ac + Makefile.am, no committed configure script); `make
 * check` runs three test programs through automake's parallel harness, one of which skips (exit 77).
 * PR #7 fixes clamp and adds a case to tests/clamp_test.c.
 */
export function autotoolsProject(): TestRepo {
  const r = new TestRepo("sweu-autotools-");
  r.commit("Initial calc library", {
    "configure.ac": [
      "AC_INIT([calc], [0.1])",
      "AC_CONFIG_AUX_DIR([build-aux])",
      "AM_INIT_AUTOMAKE([foreign subdir-objects -Wall])",
      "AC_PROG_CC",
      "AM_PROG_AR",
      "AC_PROG_RANLIB",
      "AC_CONFIG_FILES([Makefile])",
      "AC_OUTPUT",
      "",
    ].join("\n"),
    "Makefile.am": [
      "noinst_LIBRARIES = libcalc.a",
      "libcalc_a_SOURCES = src/calc.c src/calc.h",
      "AM_CPPFLAGS = -I$(top_srcdir)/src",
      "LDADD = libcalc.a",
      "check_PROGRAMS = tests/add_test tests/clamp_test tests/skip_test",
      "TESTS = $(check_PROGRAMS)",
      "",
    ].join("\n"),
    "src/calc.h": CALC_H,
    "src/calc.c": CALC_BUGGY,
    "tests/add_test.c": '#include "calc.h"\nint main(void) { return add(2, 3) == 5 ? 0 : 1; }\n',
    "tests/skip_test.c": "/* exit 77: the harness reports SKIP */\nint main(void) { return 77; }\n",
    "tests/clamp_test.c": `${CLAMP_TEST}  return failures != 0;\n}\n`,
    ".gitignore": [
      "*.o",
      "*.a",
      "Makefile",
      "Makefile.in",
      "configure",
      "aclocal.m4",
      "autom4te.cache/",
      "build-aux/",
      "config.*",
      ".deps/",
      ".dirstamp",
      "*.log",
      "*.trs",
      "",
    ].join("\n"),
  });
  r.mergePr(7, "fix-clamp", "clamp ignores hi", "Fixes #2", [
    {
      "src/calc.c": CALC_FIXED,
      "tests/clamp_test.c": `${CLAMP_TEST}  check(clamp(50, 0, 10), 10, "high");\n  return failures != 0;\n}\n`,
    },
  ]);
  return r;
}
