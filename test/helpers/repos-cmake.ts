import { TestRepo } from "./repos.ts";

export const CALC_H = `#pragma once
int add(int a, int b);
int clamp(int x, int lo, int hi);
`;
export const CALC_BUGGY = `#include "calc.h"
int add(int a, int b) { return a + b; }
int clamp(int x, int lo, int hi) {
  (void)hi; /* bug: the upper bound is never applied */
  return x < lo ? lo : x;
}
`;
export const CALC_FIXED = `#include "calc.h"
int add(int a, int b) { return a + b; }
int clamp(int x, int lo, int hi) { return x < lo ? lo : (x > hi ? hi : x); }
`;
const TEST_BASE = `#include <gtest/gtest.h>
#include "calc.h"

TEST(Calc, Add) { EXPECT_EQ(add(2, 3), 5); }
TEST(Calc, ClampLow) { EXPECT_EQ(clamp(-5, 0, 10), 0); }
`;

/**
 * A CMake + GoogleTest (Debian's libgtest-dev) C++ project; PR #5 fixes clamp and adds a case to the
 * existing test program, which is registered as ONE CTest test (no gtest_discover_tests): only the gtest
 * XML reports tell the cases apart. PR #6 adds a function its new test calls (buggy state: no build).
 */
export function cmakeProject(): TestRepo {
  const r = new TestRepo("sweu-cpp-");
  r.commit("Initial calc library", {
    "CMakeLists.txt": [
      "cmake_minimum_required(VERSION 3.16)",
      "project(calc CXX)",
      'option(CALC_BUILD_TESTS "Build the tests" OFF)',
      "add_library(calc src/calc.cpp)",
      "target_include_directories(calc PUBLIC include)",
      "if(CALC_BUILD_TESTS)",
      "  enable_testing()",
      "  find_package(GTest REQUIRED)",
      "  add_executable(calc_test tests/calc_test.cpp)",
      "  target_link_libraries(calc_test calc GTest::gtest_main)",
      "  add_test(NAME calc_test COMMAND calc_test)",
      "endif()",
      "",
    ].join("\n"),
    "include/calc.h": CALC_H,
    "src/calc.cpp": CALC_BUGGY,
    "tests/calc_test.cpp": TEST_BASE,
  });
  const testsAfter5 = `${TEST_BASE}TEST(Calc, ClampHigh) { EXPECT_EQ(clamp(50, 0, 10), 10); }\n`;
  r.mergePr(5, "fix-clamp", "clamp ignores hi", "Fixes #3", [
    { "src/calc.cpp": CALC_FIXED, "tests/calc_test.cpp": testsAfter5 },
  ]);
  // PR #6 adds a function and its test: in the buggy state the test program does not compile.
  r.mergePr(6, "sign", "Add sign()", "sign(x) returns -1, 0 or 1.\n\nCloses #4", [
    {
      "include/calc.h": `${CALC_H}int sign(int x);\n`,
      "src/calc.cpp": `${CALC_FIXED}int sign(int x) { return (x > 0) - (x < 0); }\n`,
      "tests/calc_test.cpp": `${testsAfter5}TEST(Calc, Sign) { EXPECT_EQ(sign(-7), -1); EXPECT_EQ(sign(0), 0); }\n`,
    },
  ]);
  return r;
}
