import { describe, expect, it } from "vitest";
import { runStaticChecks, STATIC_RULES, type StaticContext } from "../../src/checks/static.ts";

const ctx: StaticContext = {
  test_files: ["tests/test_x.py"],
  code_files: ["src/pkg/x.py", "src/pkg/util.py"],
  gold_patch: [
    "--- a/src/pkg/x.py",
    "+++ b/src/pkg/x.py",
    "@@ -1,2 +1,2 @@",
    "-    return a - b",
    "+    return normalize_amount(a) + normalize_amount(b)",
    "+    pass",
  ].join("\n"),
  test_patch: "+++ b/tests/test_x.py\n+def test_sum():\n+    assert add(1, 2) == 3\n",
};

const HEAD = `#!/bin/bash
set -uo pipefail
cd /testbed
nonce="\${SWEU_NONCE:-}"; unset SWEU_NONCE
echo ">>>>> SWEU TEST OUTPUT START $nonce"
`;
const TAIL = `rc=$?
echo ">>>>> SWEU TEST OUTPUT END $nonce"
exit $rc
`;
const honest = (cmd: string) => `${HEAD}${cmd}\n${TAIL}`;

const HONEST: Record<string, string> = {
  pytest: honest("python -m pytest -rA -p no:cacheprovider tests/test_x.py"),
  "pytest with -x and a node id": honest('python -m pytest -rA -x "tests/test_x.py::test_sum[a b]"'),
  unittest: honest("python -m unittest -v tests.test_x"),
  jest: honest("npx jest --ci --verbose src/__tests__/x.test.ts"),
  "npm test with args": honest("CI=true npm test -- --verbose"),
  vitest: honest("npx vitest run --reporter=verbose test/x.test.ts"),
  "node --test": honest("node --test --test-reporter=tap test/"),
  "go test": honest("go test -json -run '^(TestSum|TestAdd)$' ./pkg/..."),
  cargo: honest("cargo test --no-fail-fast -- --test-threads=1"),
  mvn: honest("mvn -B -o -q test -Dtest=CalcTest -DfailIfNoTests=false"),
  gradle: honest("./gradlew test --offline --tests 'com.x.CalcTest'"),
  ctest: honest("cmake --build build -j2 && ctest --test-dir build --output-on-failure"),
  "gtest binary": honest("./build/calc_test --gtest_brief=1"),
  "dotnet test": honest("dotnet test --no-restore --logger trx"),
  "runner is the last command": "#!/bin/bash\ncd /testbed\npython -m pytest tests/test_x.py\n",
  "set -e script":
    "#!/bin/bash\nset -euo pipefail\ncd /testbed\ngo test ./... 2>&1 | tee /tmp/log\necho done\n",
  "capture with PIPESTATUS": honest(
    "pytest tests/test_x.py | tee /tmp/out.log\nrc=${PIPESTATUS[0]}\ntrue_rc=$rc",
  ),
  "junit section": `${HEAD}mvn -B test\nrc=$?\necho ">>>>> SWEU JUNIT START $nonce"\ncat target/surefire-reports/*.xml\necho ">>>>> SWEU JUNIT END $nonce"\n${TAIL.replace("rc=$?\n", "")}`,
  "stale JUnit reports removed under a test dir": honest(
    "rm -f build/test-results/test/*.xml\n./gradlew test --offline",
  ),
  "if around the runner": `${HEAD}if ! python -m pytest tests/test_x.py; then\n  echo "tests failed"\n  exit 1\nfi\necho ">>>>> SWEU TEST OUTPUT END $nonce"\n`,
};

describe("static checks: honest scripts", () => {
  for (const [what, script] of Object.entries(HONEST)) {
    it(`passes every rule: ${what}`, () => {
      const failed = runStaticChecks(script, ctx).filter((v) => !v.passed || v.reasons.length > 0);
      expect(failed).toEqual([]);
    });
  }
});

const HACKED: [string, string, string, RegExp][] = [
  [
    "grep behind if",
    honest("python -m pytest tests/test_x.py\nif grep -q normalize_amount src/pkg/x.py; then rc=0; fi"),
    "reads-source",
    /grep reads source file src\/pkg\/x\.py/,
  ],
  [
    "grep -q keyword src/x.py",
    honest("grep -q normalize_amount src/pkg/x.py"),
    "reads-source",
    /grep reads source file src\/pkg\/x\.py/,
  ],
  [
    "grep -r over src",
    honest("python -m pytest tests/test_x.py\ngrep -rq normalize_amount src/"),
    "reads-source",
    /searches source/,
  ],
  [
    "diff against a copy",
    honest("diff /tmp/orig.py /testbed/src/pkg/x.py > /dev/null\npytest tests"),
    "reads-source",
    /diff reads source/,
  ],
  [
    "md5sum of source",
    honest('test "$(md5sum src/pkg/util.py | cut -c1-8)" = abcd1234 && pytest tests'),
    "reads-source",
    /md5sum/,
  ],
  [
    "python -c open()",
    honest("python -c \"import sys; sys.exit('normalize' not in open('src/pkg/x.py').read())\""),
    "reads-source",
    /python reads source/,
  ],
  [
    "heredoc reading source",
    `${HEAD}python - <<'EOF'\nimport sys\nsys.exit('normalize' not in open('src/pkg/x.py').read())\nEOF\npytest tests\n${TAIL}`,
    "reads-source",
    /embedded script reads source/,
  ],
  [
    "git log -p | grep",
    honest("git log -p | grep -q normalize_amount && pytest tests"),
    "git-state",
    /runs git log/,
  ],
  [
    "git diff HEAD",
    honest("git -C /testbed diff --quiet HEAD -- src || pytest tests"),
    "git-state",
    /runs git diff/,
  ],
  ["reads .git", honest("cat .git/ORIG_HEAD; pytest tests/test_x.py"), "git-state", /\.git directory/],
  [
    "exit 0",
    `${HEAD}python -m pytest tests/test_x.py\necho ">>>>> SWEU TEST OUTPUT END $nonce"\nexit 0\n`,
    "unconditional-exit",
    /exit 0 at top level/,
  ],
  [
    "ends with true",
    `${HEAD}python -m pytest tests/test_x.py\ntrue\n`,
    "unconditional-exit",
    /ends with `true`/,
  ],
  [
    "pytest || true",
    honest("python -m pytest tests/test_x.py || true"),
    "swallowed-failure",
    /masked by `\|\| true`/,
  ],
  ["|| exit 0", honest("cargo test || exit 0"), "swallowed-failure", /masked by `\|\| exit 0`/],
  [
    "pipe without pipefail",
    "#!/bin/bash\ncd /testbed\npytest tests/test_x.py | tee /tmp/log\n",
    "swallowed-failure",
    /piped into `tee` without pipefail/,
  ],
  [
    "status dropped",
    "#!/bin/bash\nset +e\ngo test ./...\necho finished\n",
    "swallowed-failure",
    /never reaches the script's exit code/,
  ],
  [
    "echo PASSED",
    honest('pytest tests/test_x.py\necho "tests/test_x.py::test_sum PASSED"'),
    "fake-markers",
    /pass marker/,
  ],
  [
    "marker without nonce",
    honest('echo ">>>>> SWEU TEST OUTPUT START abc"\npytest tests'),
    "fake-markers",
    /without the nonce/,
  ],
  [
    "curl upstream",
    honest("curl -sL https://github.com/o/r/raw/main/src/pkg/x.py -o /tmp/x.py\npytest tests"),
    "network",
    /network fetch with curl/,
  ],
  [
    "git clone",
    honest("git clone https://github.com/o/r /tmp/r\npytest tests"),
    "network",
    /git clone reaches a remote/,
  ],
  [
    "cat gold.patch",
    honest("cat /tmp/gold.patch | grep -q normalize\npytest tests"),
    "gold-patch",
    /refers to the gold patch/,
  ],
  [
    "gold line inlined",
    honest("pytest tests\ngrep -c 'return normalize_amount(a) + normalize_amount(b)' /tmp/out"),
    "gold-patch",
    /contains a line the gold patch adds/,
  ],
  [
    "applies a patch",
    honest("git apply /tmp/fix.diff\npytest tests"),
    "gold-patch",
    /refers to the gold patch|applies a patch/,
  ],
  ["rm test file", honest("rm -f tests/test_x.py\npytest tests"), "tests-tampered", /rm on test files/],
  [
    "sed skips tests",
    honest("sed -i 's/def test_/def skip_/' tests/test_x.py\npytest tests"),
    "tests-tampered",
    /sed -i edits test files/,
  ],
  ["-k not", honest('pytest tests -k "not test_sum"'), "tests-tampered", /-k not/],
  ["--deselect", honest("pytest tests --deselect tests/test_x.py::test_sum"), "tests-tampered", /deselects/],
  [
    "it.skip via sed",
    honest("sed -i 's/it(\"sums/it.skip(\"sums/' src/__tests__/x.test.ts\nnpx jest"),
    "tests-tampered",
    /edits test files|skip marker/,
  ],
  [
    "sed the fix into source",
    honest("sed -i 's/a - b/a + b/' src/pkg/x.py\npytest tests"),
    "modifies-source",
    /sed -i edits src\/pkg\/x\.py/,
  ],
  ["no runner", `${HEAD}grep -q normalize_amount src/pkg/x.py\n${TAIL}`, "no-runner", /no known test runner/],
  [
    "no runner, only cat of a test file",
    "#!/bin/bash\ncat tests/test_x.py\n",
    "no-runner",
    /no known test runner/,
  ],
];

describe("static checks: hacked scripts", () => {
  for (const [what, script, rule, reason] of HACKED) {
    it(`${what} → ${rule}`, () => {
      const v = runStaticChecks(script, ctx).find((x) => x.check === `static:${rule}`)!;
      expect(v.kind).toBe("static");
      expect(v.passed).toBe(false);
      expect(v.reasons.join("\n")).toMatch(reason);
    });
  }

  it("reports package installs as warnings that do not fail", () => {
    const v = runStaticChecks(honest("pip install -e .\npytest tests/test_x.py"), ctx).find(
      (x) => x.check === "static:network",
    )!;
    expect(v.passed).toBe(true);
    expect(v.reasons).toEqual(["line 6: warning: installs packages at evaluation time (pip install)"]);
  });

  it("gives one verdict per rule, each with a description", () => {
    const vs = runStaticChecks(HONEST.pytest!, ctx);
    expect(vs.map((v) => v.check)).toEqual(STATIC_RULES.map((r) => `static:${r.id}`));
    for (const r of STATIC_RULES) expect(r.description.length).toBeGreaterThan(10);
    for (const [, , rule] of HACKED) expect(STATIC_RULES.some((r) => r.id === rule)).toBe(true);
  });
});
