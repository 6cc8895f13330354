import { describe, expect, it } from "vitest";
import {
  autotoolsDependencies,
  cmake,
  cmakeOptions,
  nativeDependencies,
  usesAutotools,
  usesGtest,
} from "../../src/builder/recipes/cmake.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import { fakeTask, memoryView } from "../helpers/view.ts";

const top = [
  "cmake_minimum_required(VERSION 3.16)",
  "project(x CXX)",
  'option(X_BUILD_TESTS "tests" OFF)',
  'option(X_DISABLE_TESTS "no" OFF)',
  'option(X_WITH_DOCS "docs" OFF)',
  "find_package(ZLIB REQUIRED)",
  "find_package(fmt CONFIG)",
  "find_package(Threads)",
  "find_package(SomethingUnknown)",
  "",
].join("\n");

describe("c/c++ recipe", () => {
  it("maps find_package names to Debian packages and finds the options that switch tests on", () => {
    const v = memoryView({
      "CMakeLists.txt": top,
      "tests/CMakeLists.txt": "find_package(GTest)\ngtest_discover_tests(t)\n",
    });
    expect(nativeDependencies(v)).toEqual(["libfmt-dev", "libgmock-dev", "libgtest-dev", "zlib1g-dev"]);
    expect(usesGtest(v)).toBe(true);
    expect(cmakeOptions(v)).toEqual({ on: ["X_BUILD_TESTS"], off: ["X_WITH_DOCS"] });
    expect(usesGtest(memoryView({ "CMakeLists.txt": top }))).toBe(false);
  });

  it("configures with tests on, builds at install, rebuilds and runs ctest at evaluation", () => {
    const v = memoryView({ "CMakeLists.txt": `${top}find_package(GTest)\n` });
    const plans = cmake.plans({ view: v, task: fakeTask("cpp"), testFiles: [] }) as BuildPlan[];
    expect(plans.map((p) => p.name)).toEqual(["cpp/cmake-ctest-gtest-xml", "cpp/cmake-ctest"]);
    const [xml, plain] = plans as [BuildPlan, BuildPlan];
    expect(xml.install[0]).toBe(
      "cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DX_BUILD_TESTS=ON -DX_WITH_DOCS=OFF",
    );
    expect(xml.install[1]).toBe("cmake --build build -j2");
    expect(xml.install.at(-1)).toContain("grep -q ELF && rm -f");
    expect(xml.test).toMatch(
      /^cmake --build build -j2 -- -k 2>&1; .*GTEST_OUTPUT=xml:\/tmp\/sweu-gtest\/ ctest /,
    );
    expect(xml.junit).toBe("/tmp/sweu-gtest/*.xml");
    expect(plain.test).toBe(
      "cmake --build build -j2 -- -k 2>&1; ctest --test-dir build --output-on-failure --no-tests=error --timeout 600",
    );
    expect(plain.apt).toEqual(
      expect.arrayContaining(["cmake", "build-essential", "libgtest-dev", "zlib1g-dev"]),
    );
    expect(renderEvaluationScript(xml)).toContain("rm -f /tmp/sweu-gtest/*.xml");
    const c = cmake.plans({ view: v, task: fakeTask("c"), testFiles: [] }) as BuildPlan[];
    expect(c[0]!.language).toBe("c");
  });

  it("plans Meson with its JUnit log, Make only when its output is readable, and says when nothing fits", () => {
    const meson = cmake.plans({
      view: memoryView({ "meson.build": "project('x', 'c')\nz = dependency('zlib')\n" }),
      task: fakeTask("c"),
      testFiles: [],
    }) as BuildPlan[];
    expect(meson.map((p) => [p.name, p.parser, p.junit])).toEqual([
      ["cpp/meson", "junit", "build/meson-logs/testlog.junit.xml"],
    ]);
    expect(meson[0]!.apt).toContain("zlib1g-dev");
    const make = cmake.plans({
      view: memoryView({ Makefile: "LDLIBS = -lgtest\ncheck: all\n\t./t\n" }),
      task: fakeTask("cpp"),
      testFiles: [],
    }) as BuildPlan[];
    expect(make.map((p) => [p.name, p.test, p.parser])).toEqual([
      ["cpp/make-check-gtest", "make -k check", "gtest"],
    ]);
    expect(
      cmake.plans({ view: memoryView({ Makefile: "all:\n\tcc x.c\n" }), task: fakeTask("c"), testFiles: [] }),
    ).toEqual({ unavailable: expect.stringMatching(/no CMake, Meson or autotools build/) });
  });

  const configureAc = [
    "AC_INIT([x], [1.0])",
    "AM_INIT_AUTOMAKE([foreign])",
    "AC_PROG_CC",
    "AX_CHECK_COMPILE_FLAG([-Wall])",
    "PKG_CHECK_MODULES([CHECK], [check >= 0.9.6])",
    "PKG_CHECK_MODULES([DEPS], [glib-2.0 libxml-2.0 >= 2.9])",
    "AC_CHECK_LIB([z], [inflate])",
    "AC_SEARCH_LIBS([dlopen], [dl])",
    "AC_OUTPUT",
  ].join("\n");
  const plansFor = (files: Record<string, string>, language: "c" | "cpp" = "c") =>
    cmake.plans({ view: memoryView(files), task: fakeTask(language), testFiles: [] }) as BuildPlan[];

  it("recognises autotools by configure.ac (or configure.in) and reads the packages it asks for", () => {
    expect(cmake.detect(memoryView({ "configure.ac": configureAc }))).toBe(true);
    expect(cmake.detect(memoryView({ "configure.in": "AC_INIT(x)\n" }))).toBe(true);
    expect(cmake.detect(memoryView({ "src/x.c": "" }))).toBe(false);
    expect(usesAutotools(memoryView({ "configure.in": "" }))).toBe(true);
    expect(usesAutotools(memoryView({ Makefile: "check:\n" }))).toBe(false);
    expect(autotoolsDependencies(memoryView({ "configure.ac": configureAc }))).toEqual([
      "autoconf",
      "autoconf-archive",
      "automake",
      "check",
      "libglib2.0-dev",
      "libtool",
      "libxml2-dev",
      "pkg-config",
      "zlib1g-dev",
    ]);
    expect(autotoolsDependencies(memoryView({ "configure.in": "AM_GNU_GETTEXT([external])\n" }))).toEqual(
      expect.arrayContaining(["autopoint", "gettext"]),
    );
  });

  it("generates configure only when none is committed, builds at install, rebuilds and runs make check", () => {
    const [gen] = plansFor({ "configure.ac": configureAc, "Makefile.am": "TESTS = t\n" });
    expect(gen!.name).toBe("cpp/autotools-autoreconf");
    expect(gen!.language).toBe("c");
    expect(gen!.install).toEqual(["autoreconf -fi", "./configure", "make -j2"]);
    expect(gen!.test).toBe("make -j2 -k 2>&1; make -k check");
    expect(gen!.parser).toBe("automake");
    expect(gen!.apt).toEqual(expect.arrayContaining(["autoconf", "automake", "libtool", "check"]));
    // A committed configure is used as it is; a Makefile beside configure.ac is autotools' own, not plain Make.
    const committed = plansFor({
      "configure.ac": configureAc,
      configure: "#!/bin/sh\n",
      Makefile: "check:\n",
    });
    expect(committed.map((p) => [p.name, p.install[0]])).toEqual([["cpp/autotools", "./configure"]]);
    // CMake stays first where both exist.
    expect(plansFor({ "CMakeLists.txt": top, "configure.ac": configureAc }).map((p) => p.name)).toEqual([
      "cpp/cmake-ctest",
      "cpp/autotools-autoreconf",
    ]);
  });

  it("regenerates with the image's autotools when a committed configure asks for another automake", () => {
    const [plan] = plansFor({ "configure.ac": configureAc, configure: "#!/bin/sh\n" });
    const failure =
      "WARNING: 'automake-1.15' is missing on your system.\n         You should only need it if you modified 'Makefile.am'";
    const revised = cmake.repair!(plan!, failure);
    expect(revised?.name).toBe("cpp/autotools-autoreconf");
    expect(revised?.install).toEqual(["autoreconf -fi", "./configure", "make -j2"]);
    expect(cmake.repair!(revised!, failure)).toBeUndefined();
    expect(cmake.repair!(plan!, "error: undefined reference to `clamp'")).toBeUndefined();
  });

  it("plans plain Make for TAP or automake-style output, and not for output it cannot read", () => {
    const tap = plansFor({ Makefile: "test: all\n\t./run-tests --format=TAP\n" });
    expect(tap.map((p) => [p.name, p.test, p.parser])).toEqual([
      ["cpp/make-test-tap", "make -k test", "tap"],
    ]);
    const am = plansFor({
      Makefile: 'check: t1\n\t@./t1 && echo "PASS: t1" || echo "FAIL: t1"\n',
    });
    expect(am.map((p) => [p.name, p.parser])).toEqual([["cpp/make-check-automake", "automake"]]);
    expect(plansFor({ Makefile: "check: t1\n\t./t1\n" })).toEqual({
      unavailable: expect.stringMatching(/TAP or automake-style/),
    });
  });
});
