import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { EVAL_SCRIPT_EXIT, renderEvalScript } from "../../src/harness/eval-script.ts";
import { TestRepo } from "../helpers/repos.ts";

/** A shell project: lib.sh's `clamp` ignores its upper bound until the fix; the PR adds a test for it. */
const LIB = (fixed: boolean) =>
  `clamp() { local x=$1 lo=$2 hi=$3; [ "$x" -lt "$lo" ] && x=$lo; ${fixed ? '[ "$x" -gt "$hi" ] && x=$hi; ' : ""}echo "$x"; }\n`;
const TESTS = (withHigh: boolean) =>
  [
    ". ./lib.sh",
    "rc=0",
    '[ "$(clamp -5 0 10)" = 0 ] && echo "PASS low" || { echo "FAIL low"; rc=1; }',
    ...(withHigh ? ['[ "$(clamp 50 0 10)" = 10 ] && echo "PASS high" || { echo "FAIL high"; rc=1; }'] : []),
    "exit $rc",
    "",
  ].join("\n");

const EVALUATION = [
  "#!/bin/bash",
  "set -uo pipefail",
  'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
  'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
  "bash tests/test_lib.sh 2>&1",
  "rc=$?",
  'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
  "exit $rc",
  "",
].join("\n");

let repo: TestRepo;
let base: string;
let testPatch: string;
let gold: string;

function diff(from: string, to: string, ...paths: string[]): string {
  return `${repo.git("diff", from, to, "--", ...paths)}\n`;
}

beforeEach(() => {
  repo = new TestRepo("sweu-evalscript-");
  base = repo.commit("base", { "lib.sh": LIB(false), "tests/test_lib.sh": TESTS(false) });
  const resolved = repo.commit("fix", { "lib.sh": LIB(true), "tests/test_lib.sh": TESTS(true) });
  testPatch = diff(base, resolved, "tests");
  gold = diff(base, resolved, "lib.sh");
  repo.git("checkout", "-q", base);
});

function script(over: { evaluation_script?: string; test_patch?: string } = {}): string {
  return renderEvalScript(
    {
      instance_id: "acme__shell-1",
      base_commit: base,
      test_patch: over.test_patch ?? testPatch,
      evaluation_script: over.evaluation_script ?? EVALUATION,
    },
    { testbed: repo.dir, scratch: mkdtempSync(join(tmpdir(), "sweu-evalscratch-")) },
  );
}

function run(text: string, args: string[] = [], how: "file" | "stdin-heredoc" = "file") {
  const file = join(mkdtempSync(join(tmpdir(), "sweu-es-")), "eval.sh");
  writeFileSync(file, text);
  const r =
    how === "file"
      ? spawnSync("bash", [file, ...args], { encoding: "utf8" })
      : // SkyRL's evaluator: `bash <<'EOF'\n{eval_script}\nEOF`, passed as one argument of a login shell.
        spawnSync("bash", ["-lc", `bash <<'EOF'\n${text}\nEOF`], { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("eval_script: self-contained, exit 0 = resolved", () => {
  it("passes with the fix applied and fails without it, applying the test patch itself", () => {
    expect(run(script()).code).not.toBe(0);
    repo.git("checkout", "-q", "--", ".");
    writeFileSync(join(repo.dir, "lib.sh"), LIB(true));
    const r = run(script());
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("PASS high");
  });

  it("applies a patch file given as its argument, and refuses one that does not apply", () => {
    const patch = join(repo.dir, "..", `gold-${process.pid}.diff`);
    writeFileSync(patch, gold);
    expect(run(script(), [patch]).code).toBe(0);
    repo.git("checkout", "-q", "--", ".");
    writeFileSync(
      patch,
      "diff --git a/nope.txt b/nope.txt\n--- a/nope.txt\n+++ b/nope.txt\n@@ -1 +1 @@\n-a\n+b\n",
    );
    const bad = run(script(), [patch]);
    expect(bad.code).toBe(EVAL_SCRIPT_EXIT.patchFailed);
    expect(bad.out).toMatch(/eval_script: the patch .* does not apply/);
  });

  it("restores the test files a candidate patch edited before the tests run", () => {
    // A "fix" that deletes the new test's assertion instead of fixing clamp.
    writeFileSync(join(repo.dir, "tests/test_lib.sh"), "echo PASS; exit 0\n");
    const r = run(script());
    expect(r.code).not.toBe(0);
    expect(readFileSync(join(repo.dir, "tests/test_lib.sh"), "utf8")).toBe(TESTS(true));
  });

  it("runs when fed on stdin inside a heredoc ending at EOF, even when evaluation.sh has an EOF line", () => {
    writeFileSync(join(repo.dir, "lib.sh"), LIB(true));
    const withEof = EVALUATION.replace(
      "bash tests/test_lib.sh 2>&1",
      "cat > /dev/null <<EOF\nheredoc body\nEOF\nbash tests/test_lib.sh 2>&1",
    );
    const text = script({ evaluation_script: withEof });
    expect(text.split("\n")).not.toContain("EOF");
    const r = run(text, [], "stdin-heredoc");
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("PASS high");
  });

  it("keeps a large test patch under one command-line argument (gzip + base64) and still applies it", () => {
    const big = Array.from({ length: 6000 }, (_, i) => `# filler line ${i} ${"x".repeat(20)}`).join("\n");
    repo.git("checkout", "-q", "-b", "big");
    const resolved = repo.commit("big tests", {
      "tests/test_lib.sh": TESTS(true),
      "tests/fixture.txt": `${big}\n`,
    });
    const bigPatch = diff(base, resolved, "tests");
    repo.git("checkout", "-q", base);
    expect(bigPatch.length).toBeGreaterThan(150_000);
    const text = script({ test_patch: bigPatch });
    expect(text.length).toBeLessThan(128 * 1024);
    writeFileSync(join(repo.dir, "lib.sh"), LIB(true));
    const r = run(text, [], "stdin-heredoc");
    expect(r.code, r.out).toBe(0);
  });
});
