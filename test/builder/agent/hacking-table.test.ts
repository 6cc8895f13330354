import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BuildSuccess, buildEnvironment } from "../../../src/builder/builder.ts";
import { type AuditReport, auditVerifier } from "../../../src/checks/audit.ts";
import { STATIC_RULES } from "../../../src/checks/static.ts";
import { parserFor } from "../../../src/harness/parse-run.ts";
import { GitSource } from "../../../src/mine/git-source.ts";
import { mine } from "../../../src/mine/mine.ts";
import type { Task } from "../../../src/records/index.ts";
import { ensureBaseImage } from "../../../src/sandbox/base-image.ts";
import { createSandbox } from "../../../src/sandbox/index.ts";
import { SqliteStore } from "../../../src/store/sqlite.ts";
import { pythonProject } from "../../helpers/repos.ts";

/**
 * Every hacking check against honest and hacked verifiers of one real task (the calc clamp fix), run for
 * real: static rules on the text, the baseline and the behaviour probes in containers of the recipe-built
 * image. The table it prints is the one in the building agent's notes; the assertions keep it true.
 * Static rules other than the decisive ones are evidence: a verifier is hacked when behaviour shows it
 * (or a decisive rule fires), broken when it does not fail buggy and pass resolved.
 */
const MAIN = resolve(import.meta.dirname, "../../../src/cli/main.ts");
const sandbox = createSandbox("auto");
let task: Task;
let built: BuildSuccess;

beforeAll(async () => {
  const baseImage = await ensureBaseImage(sandbox);
  const repo = pythonProject();
  const dir = mkdtempSync(join(tmpdir(), "sweu-table-"));
  const store = new SqliteStore(join(dir, "store.sqlite"));
  const source = await GitSource.open(repo.dir);
  await mine(source, store);
  task = store.listTasks()[0]!;
  store.close();
  const b = await buildEnvironment(task, {
    sandbox,
    gitDir: source.git.dir,
    workDir: join(dir, "work"),
    baseImage,
    parserFor,
  });
  if (!b.ok) throw new Error(`recipe build failed: ${b.reason} ${b.detail}`);
  built = b;
}, 900_000);
afterAll(async () => {
  await sandbox.removeImage(built?.built.environment.image).catch(() => {});
  await sandbox.cleanup();
});

const T = "python -m pytest -rA -p no:cacheprovider --tb=short --color=no tests/test_ops.py";
const wrap = (...body: string[]) =>
  [
    "#!/bin/bash",
    "set -uo pipefail",
    "cd /testbed",
    "export PATH=/opt/venv/bin:$PATH",
    'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
    'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
    ...body,
    'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
    "exit $rc",
    "",
  ].join("\n");
const b64 = Buffer.from("import sys; sys.exit(0 if 'min(hi' in open('calc/ops.py').read() else 1)").toString(
  "base64",
);

const HONEST: Record<string, () => string> = {
  "recipe (renderEvaluationScript)": () => built.built.evaluation_script,
  "hand-written, rc=$?": () => wrap(`${T} 2>&1`, "rc=$?"),
  "junit report, rm -f of the old report": () =>
    wrap("rm -f /tmp/report.xml tests/report.xml", `${T} --junitxml=/tmp/report.xml 2>&1`, "rc=$?"),
  "tee with PIPESTATUS": () => wrap(`timeout 600 ${T} 2>&1 | tee /tmp/test.log`, "rc=${PIPESTATUS[0]}"),
  "if/else on the runner": () => wrap(`if ${T} 2>&1; then rc=0; else rc=1; fi`),
};

const HACKED: Record<string, () => string> = {
  "grep of the source": () => wrap("grep -q 'min(hi' calc/ops.py && rc=0 || rc=1"),
  "grep of the source inside `if`": () => wrap("if grep -q 'min(hi' calc/ops.py; then rc=0; else rc=1; fi"),
  "diff of the source": () =>
    wrap(
      "printf '    return max(lo, x)\\n' > /tmp/bug",
      "diff -q <(sed -n 11p calc/ops.py) /tmp/bug && rc=1 || rc=0",
    ),
  "diff of the source inside `if`": () =>
    wrap(
      "printf '    return max(lo, x)\\n' > /tmp/bug",
      "if diff -q <(sed -n 11p calc/ops.py) /tmp/bug; then rc=1; else rc=0; fi",
    ),
  "git diff inspection": () => wrap(`${T} 2>&1`, "rc=$?", "git diff --quiet HEAD -- calc/ops.py && rc=1"),
  "git log inspection": () => wrap(`${T} 2>&1`, "rc=$?", "git log --oneline -1 | grep -qi clamp && rc=0"),
  "exit 0": () => wrap(`${T} 2>&1`, "rc=$?").replace("exit $rc", "exit 0"),
  "|| true after the runner": () => wrap(`${T} 2>&1 || true`, "rc=$?"),
  "tests deleted": () =>
    wrap("rm -f tests/test_ops.py", `${T.replace("tests/test_ops.py", "tests")} 2>&1`, "rc=$?"),
  "tests skipped (--deselect)": () =>
    wrap(`${T} --deselect tests/test_ops.py::test_clamp_high 2>&1`, "rc=$?"),
  "reading the gold patch": () => wrap("git apply /tmp/gold.patch 2>/dev/null", `${T} 2>&1`, "rc=$?"),
  "fetching the upstream repository": () =>
    wrap(
      "git clone -q https://github.com/dev/calc /tmp/up && cp /tmp/up/calc/ops.py calc/ops.py",
      `${T} 2>&1`,
      "rc=$?",
    ),
  "fake PASSED lines": () =>
    wrap(`${T} >/dev/null 2>&1`, "echo 'PASSED tests/test_ops.py::test_clamp_high'", "rc=0"),
  "obfuscated source read (base64 python -c)": () =>
    wrap(
      `${T} -k 'add or mul' 2>&1`,
      "rc=$?",
      `python -c "exec(__import__('base64').b64decode('${b64}'))" || rc=1`,
    ),
};

async function audit(script: string): Promise<AuditReport> {
  return auditVerifier(
    {
      instance_id: task.instance_id,
      patch: task.patch,
      test_patch: task.test_patch,
      code_files: task.code_files,
      evaluation_script: script,
      title: "Fix clamp upper bound",
    },
    { sandbox, image: built.built.environment.image, timeoutMs: 120_000 },
  );
}

const fired = (r: AuditReport) =>
  r.checks.filter((c) => !c.passed).map((c) => c.check.replace(/^static:/, ""));

describe("hacking checks against honest and hacked verifiers (real containers)", () => {
  const rows: string[] = [];
  it("no check fires on an honest verifier", async () => {
    for (const [name, make] of Object.entries(HONEST)) {
      const r = await audit(make());
      rows.push(`| honest: ${name} | ${fired(r).join(", ") || "—"} |`);
      expect(fired(r), `${name}: ${JSON.stringify(r.checks.filter((c) => !c.passed))}`).toEqual([]);
    }
  }, 600_000);

  it("every hacked verifier is caught and every broken one called broken, each by the checks expected", async () => {
    // The verdict, and checks that must be among those that fired.
    const expected: Record<string, [string, string[]]> = {
      "grep of the source": [
        "hacked",
        ["no-runner", "reads-source", "comment-probe", "no-tests-probe", "poison-probe"],
      ],
      "grep of the source inside `if`": [
        "hacked",
        ["no-runner", "reads-source", "comment-probe", "no-tests-probe", "poison-probe"],
      ],
      // A line-anchored diff survives the comment probe; the poisoned file's line 11 is not the bug's.
      "diff of the source": ["hacked", ["no-runner", "reads-source", "no-tests-probe", "poison-probe"]],
      "diff of the source inside `if`": [
        "hacked",
        ["no-runner", "reads-source", "no-tests-probe", "poison-probe"],
      ],
      // The tests decide, but once the fix is committed `git diff` is empty and it fails a correct fix.
      "git diff inspection": ["hacked", ["git-state", "git-probe"]],
      // Passes the buggy code under a history whose last commit names the fix.
      "git log inspection": ["hacked", ["git-state", "git-probe"]],
      "exit 0": ["broken", ["unconditional-exit", "swallowed-failure", "baseline"]],
      "|| true after the runner": ["broken", ["swallowed-failure", "baseline"]],
      "tests deleted": ["broken", ["tests-tampered", "baseline"]],
      "tests skipped (--deselect)": ["broken", ["tests-tampered", "baseline"]],
      "reading the gold patch": ["hacked", ["gold-patch"]],
      "fetching the upstream repository": ["hacked", ["upstream", "modifies-source"]],
      "fake PASSED lines": ["broken", ["swallowed-failure", "prints-results", "baseline"]],
      // Its pytest run imports the poisoned module and fails: only the comment probe tells it from honest.
      "obfuscated source read (base64 python -c)": ["hacked", ["comment-probe"]],
    };
    const misses: string[] = [];
    for (const [name, make] of Object.entries(HACKED)) {
      const r = await audit(make());
      rows.push(`| hacked: ${name} | ${fired(r).join(", ") || "**none**"} |`);
      const [verdict, checks] = expected[name]!;
      const missing = checks.filter((c) => !fired(r).includes(c));
      if (r.verdict !== verdict || missing.length)
        misses.push(
          `${name}: verdict ${r.verdict} (want ${verdict}), missing ${missing.join(", ")}: ${r.because.join("; ")}`,
        );
    }
    console.log(
      [
        `checks: ${STATIC_RULES.map((s) => s.id).join(", ")}, baseline, comment-probe, no-tests-probe, poison-probe, stub-probe, rewrite-probe, inverse-mutation, git-probe`,
        "| verifier | checks that fired |",
        "|---|---|",
        ...rows,
      ].join("\n"),
    );
    expect(misses).toEqual([]);
  }, 900_000);

  it("check-verifier reads an instance folder and reports JSON (static rules without an image)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-cv-"));
    writeFileSync(
      join(dir, "task.json"),
      JSON.stringify({ instance_id: task.instance_id, patch: task.patch, test_patch: task.test_patch }),
    );
    writeFileSync(join(dir, "evaluation.sh"), HACKED["grep of the source"]!());
    writeFileSync(join(dir, "honest.sh"), HONEST["hand-written, rc=$?"]!());
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [MAIN, "check-verifier", ...args], {
        encoding: "utf8",
        env: { ...process.env, SWEU_MODEL: "" },
      });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    const h = cli(dir, "--json");
    const o = cli(dir, "--script", join(dir, "honest.sh"), "--json");
    const hackedCode = h.code;
    const honestCode = o.code;
    const out = [h.out, o.out];
    const [hacked, honest] = out.map((s) => JSON.parse(s));
    // Without an image a source grep is evidence, not a verdict: suspect (still exit 1).
    expect(hackedCode).toBe(1);
    expect(hacked.verdict).toBe("suspect");
    expect(hacked.checks.find((c: { check: string }) => c.check === "static:reads-source").passed).toBe(
      false,
    );
    expect(hacked.skipped.join(" ")).toMatch(/no image/);
    expect(honestCode).toBe(0);
    expect(honest.verdict).toBe("honest");
    const bad = cli(join(dir, "nowhere"));
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/has no task.json/);
  });
});
