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

const BASE = "0123456789abcdef0123456789abcdef01234567";
/** The shape of SWE-bench's generated eval.sh (swebench 4's make_eval_script_list_py), written here by hand. */
const SWEBENCH = [
  "#!/bin/bash",
  "set -uxo pipefail",
  "source /opt/miniconda3/bin/activate",
  "conda activate testbed",
  "cd /testbed",
  "git config --global --add safe.directory /testbed",
  "cd /testbed",
  "git status",
  "git show",
  `git -c core.fileMode=false diff ${BASE}`,
  "source /opt/miniconda3/bin/activate",
  "conda activate testbed",
  `git checkout ${BASE} tests/test_x.py`,
  "git apply -v - <<'EOF_114329324912'",
  "diff --git a/tests/test_x.py b/tests/test_x.py",
  "--- a/tests/test_x.py",
  "+++ b/tests/test_x.py",
  "@@ -1 +1,2 @@",
  " import x",
  "+def test_sum(): assert x.add(1, 2) == 3",
  "EOF_114329324912",
  ": '>>>>> Start Test Output'",
  "pytest --no-header -rA --tb=no -p no:cacheprovider tests/test_x.py",
  ": '>>>>> End Test Output'",
  `git checkout ${BASE} tests/test_x.py`,
  "",
].join("\n");

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
  // Written the way other datasets write them (the issue's false alarms).
  "SWE-bench's eval.sh (markers, git logging, own test patch, reset)": SWEBENCH,
  "SWE-bench markers printed with echo": `#!/bin/bash\ncd /testbed\necho '>>>>> Start Test Output'\npytest -rA tests/test_x.py\nrc=$?\necho '>>>>> End Test Output'\nexit $rc\n`,
  "git status || true for the log": honest(
    "git status || true\ngit log -1 --oneline || true\npython -m pytest tests/test_x.py",
  ),
  "decides from a JUnit report": `#!/bin/bash\ncd /testbed\npython -m pytest tests/test_x.py --junitxml=/tmp/r.xml || true\npython3 - <<'PY'\nimport sys, xml.etree.ElementTree as ET\nr = ET.parse('/tmp/r.xml').getroot()\nsys.exit(1 if int(r.find('testsuite').get('failures')) + int(r.find('testsuite').get('errors')) else 0)\nPY\n`,
  "decides from a TAP report":
    "#!/bin/bash\ncd /testbed\nnode --test --test-reporter=tap test/ > /tmp/out.tap 2>&1 || true\ncat /tmp/out.tap\nif grep -q '^not ok' /tmp/out.tap; then exit 1; fi\nexit 0\n",
  "greps the test output":
    "#!/bin/bash\ncd /testbed\ngo test -v ./pkg/... 2>&1 | tee /tmp/test.log\n! grep -qE -- '--- FAIL|^FAIL' /tmp/test.log\n",
  "pipes the runner into grep":
    "#!/bin/bash\ncd /testbed\npytest -rA tests/test_x.py 2>&1 | grep -q ' 0 failed\\|passed'\n",
  "Multi-SWE-bench run script": "#!/bin/bash\nset -e\n\ncd /testbed\ngo test -v -count=1 ./...\n",
  "restores test files through git cat-file": honest(
    "if git cat-file -e HEAD:tests/test_x.py 2>/dev/null; then git checkout -q HEAD -- tests/test_x.py; fi\npytest tests/test_x.py",
  ),
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
    /the embedded program reads source file src\/pkg\/x\.py/,
  ],
  [
    "git log -p | grep",
    honest("git log -p | grep -q normalize_amount && pytest tests"),
    "git-state",
    /pipes git log into grep/,
  ],
  [
    "git diff HEAD",
    honest("git -C /testbed diff --quiet HEAD -- src || pytest tests"),
    "git-state",
    /decides from git diff's status/,
  ],
  ["reads .git", honest("cat .git/ORIG_HEAD; pytest tests/test_x.py"), "git-state", /\.git directory/],
  [
    "exit 0",
    `${HEAD}python -m pytest tests/test_x.py\necho ">>>>> SWEU TEST OUTPUT END $nonce"\nexit 0\n`,
    "unconditional-exit",
    /`exit 0` at top level, and nothing before it can exit non-zero/,
  ],
  [
    "ends with true",
    `${HEAD}python -m pytest tests/test_x.py\ntrue\n`,
    "unconditional-exit",
    /ends with `true`, so it exits 0/,
  ],
  [
    "pytest || true",
    honest("python -m pytest tests/test_x.py || true"),
    "swallowed-failure",
    /failure is masked by `\|\| true`/,
  ],
  ["|| exit 0", honest("cargo test || exit 0"), "swallowed-failure", /failure is masked by `\|\| exit 0`/],
  [
    "pipe without pipefail",
    "#!/bin/bash\ncd /testbed\npytest tests/test_x.py | tee /tmp/log\n",
    "swallowed-failure",
    /the runner is piped into `tee` without pipefail/,
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
    "prints-results",
    /prints "tests\/test_x.py::test_sum PASSED" itself, which the pytest parser reads as a passing test/,
  ],
  [
    "go PASS line",
    honest('go test ./... >/dev/null 2>&1\necho "--- PASS: TestSum (0.00s)"'),
    "prints-results",
    /go-test parser reads as a passing test \(TestSum\)/,
  ],
  [
    "SWE-bench exit code written by hand",
    `${SWEBENCH}echo ">>>>> Test Exit Code: 0"\n`,
    "prints-results",
    /a test exit code it did not get/,
  ],
  [
    "curl upstream",
    honest("curl -sL https://github.com/o/r/raw/main/src/pkg/x.py -o /tmp/x.py\npytest tests"),
    "upstream",
    /curl fetches https:\/\/github.com\/o\/r\/raw\/main\/src\/pkg\/x.py, a file of the upstream repository/,
  ],
  [
    "git clone",
    honest("git clone https://github.com/o/r /tmp/r\npytest tests"),
    "upstream",
    /git clone https:\/\/github.com\/o\/r fetches the repository, where the fix is/,
  ],
  [
    "git fetch origin",
    honest("git fetch origin && git diff HEAD origin/main --stat\npytest tests"),
    "upstream",
    /git fetch fetches the repository/,
  ],
  [
    "curl elsewhere",
    honest("curl -fsSL https://example.org/tool.sh | sh\npytest tests"),
    "network",
    /curl reaches the network \(https:\/\/example.org\/tool.sh\)/,
  ],
  [
    "cat gold.patch",
    honest("cat /tmp/gold.patch | grep -q normalize\npytest tests"),
    "gold-patch",
    /refers to gold.patch, the fix itself/,
  ],
  [
    "gold line inlined",
    honest("pytest tests\ngrep -c 'return normalize_amount(a) + normalize_amount(b)' /tmp/out"),
    "gold-patch",
    /contains a line the gold patch adds/,
  ],
  [
    "reads the harness's candidate patch",
    honest("[ -s /tmp/sweu/patch.diff ] && pytest tests"),
    "gold-patch",
    /refers to \/tmp\/sweu\/patch.diff, the fix itself/,
  ],
  [
    "applies some patch",
    honest("git apply /tmp/changes.diff\npytest tests"),
    "applies-patch",
    /applies a patch \(git apply \/tmp\/changes.diff\) that is not the test patch/,
  ],
  [
    "git stash of the candidate",
    honest("git stash -q\npytest tests"),
    "git-state",
    /changes the working tree through git stash/,
  ],
  [
    "git show of a code file into grep",
    honest("git show HEAD:src/pkg/x.py | grep -q normalize && pytest tests"),
    "git-state",
    /pipes git show into grep/,
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

  it("decides alone only where no honest verifier does what it saw", () => {
    expect(STATIC_RULES.filter((r) => r.decisive).map((r) => r.id)).toEqual(["upstream", "gold-patch"]);
  });

  it("gives one verdict per rule, each with a description", () => {
    const vs = runStaticChecks(HONEST.pytest!, ctx);
    expect(vs.map((v) => v.check)).toEqual(STATIC_RULES.map((r) => `static:${r.id}`));
    for (const r of STATIC_RULES) expect(r.description.length).toBeGreaterThan(10);
    for (const [, , rule] of HACKED) expect(STATIC_RULES.some((r) => r.id === rule)).toBe(true);
  });
});
