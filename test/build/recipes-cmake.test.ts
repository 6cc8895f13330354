import { describe, expect, it } from "vitest";
import { renderEvaluationScript } from "../../src/build/evaluation-script.ts";
import { cmake, cmakeOptions, nativeDependencies, usesGtest } from "../../src/build/recipes/cmake.ts";
import type { BuildPlan } from "../../src/build/recipes/types.ts";
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
    ).toEqual({ unavailable: expect.stringMatching(/no CMake or Meson build/) });
  });
});
