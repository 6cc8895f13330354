/** Small repositories for universe tests, and a stand-in build job (the sandbox left out). */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportUniverse } from "../../src/export/index.ts";
import { MemoryQueue } from "../../src/queue/memory.ts";
import type { Instance, Task } from "../../src/records/index.ts";
import type { BuildJobData, BuildJobResult } from "../../src/run/jobs.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { recordListing, runUniverse } from "../../src/universe/universe.ts";
import { TestRepo } from "../helpers/repos.ts";

/** A repository with `n` squash-merged PRs #1..#n, each changing a module and its test (each a task). */
export function prsRepo(n: number, prefix = "sweu-u-"): TestRepo {
  const r = new TestRepo(prefix);
  r.commit("Initial", {
    "m.py": "X = 0\n",
    "test_m.py": "from m import X\n\ndef test_x():\n    assert X == 0\n",
  });
  for (let i = 1; i <= n; i++)
    r.squashPr(i, `Change ${i}`, `Fixes #${100 + i}.`, {
      "m.py": `X = ${i}\n`,
      "test_m.py": `from m import X\n\ndef test_x():\n    assert X == ${i}\n`,
    });
  return r;
}

export function standIn(t: Task, wallMs = 50): Instance {
  return {
    instance_id: t.instance_id,
    repo: t.repo,
    base_commit: t.base_commit,
    patch: t.patch,
    test_patch: t.test_patch,
    problem_statement: t.problem_statement,
    hints_text: t.hints_text,
    created_at: t.created_at,
    version: "0.1",
    FAIL_TO_PASS: ["test_m.py::test_x"],
    PASS_TO_PASS: [],
    environment_setup_commit: t.base_commit,
    language: t.language,
    image: `localhost/sweu.eval.${t.instance_id.toLowerCase()}:latest`,
    dockerfile: "FROM scratch\n",
    evaluation_script: "#!/bin/bash\npytest\n",
    parser: "pytest",
    environment_key: `k-${t.repo}`,
    validation: {
      runs_per_state: 1,
      runs: [],
      fail_to_pass: ["test_m.py::test_x"],
      pass_to_pass: [],
      flaky: [],
      image_rebuilt: true,
    },
    checks: [],
    builder: { kind: "recipe", name: "stand-in", attempts: 1 },
    cost: { wall_ms: wallMs, build_ms: 0, validate_ms: 0, prompt_tokens: 0, completion_tokens: 0, usd: 0 },
  };
}

/** A build job that answers at once: an instance for odd PR numbers, a rejection for even ones. */
export function standInResult(d: unknown): BuildJobResult {
  const { task } = d as BuildJobData;
  if (task.number % 2 === 0)
    return {
      outcome: "rejected",
      rejection: {
        id: task.instance_id,
        repo: task.repo,
        number: task.number,
        stage: "validate",
        reason: "buggy_passes",
        detail: "stand-in",
        at: new Date().toISOString(),
      },
      ms: 40,
    };
  return { outcome: "instance", instance: standIn(task), ms: 50 };
}

/** A universe run folder of stand-in outcomes over `repos` (name → PRs). */
export async function standInRun(repos: Record<string, number>): Promise<string> {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-uexp-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  recordListing(store, {
    repos: Object.entries(repos).map(([name, n], i) => ({
      name,
      from: `l:${i + 1}`,
      input: name,
      location: prsRepo(n).dir,
    })),
    notes: [
      {
        from: "l:9",
        input: "acme/calc",
        kind: "duplicate",
        detail: "acme/calc is already listed (l:1): kept once",
      },
    ],
  });
  const queue = new MemoryQueue({ handlers: { "build-task": async (d) => standInResult(d) } });
  await runUniverse(store, {} as Sandbox, { runDir, budgets: {}, queue });
  exportUniverse(store, runDir);
  store.close();
  return runDir;
}

/** A Python package whose two squash-merged PRs (#1, #2) leave the manifests alone: they share one environment. */
export function textopsProject(): TestRepo {
  const r = new TestRepo("sweu-textops-");
  const ops = (shout: boolean, words: boolean) =>
    [
      "def shout(s):",
      shout ? "    return s.upper() + '!'" : "    return s.upper()",
      "",
      "def words(s):",
      words ? "    return len(s.split())" : "    return len(s.split(' '))",
      "",
    ].join("\n");
  const tests = (extra: string[]) =>
    [
      "from textops.ops import shout, words",
      "",
      "def test_base():",
      "    assert shout('a').startswith('A')",
      "",
      ...extra,
    ].join("\n");
  r.commit("Initial", {
    "pyproject.toml": [
      "[build-system]",
      'requires = ["setuptools>=61"]',
      'build-backend = "setuptools.build_meta"',
      "[project]",
      'name = "textops"',
      'version = "0.1.0"',
      "[project.optional-dependencies]",
      'test = ["pytest"]',
      "",
    ].join("\n"),
    "textops/__init__.py": "",
    "textops/ops.py": ops(false, false),
    "tests/test_ops.py": tests([]),
  });
  r.squashPr(1, "shout adds an exclamation mark", "", {
    "textops/ops.py": ops(true, false),
    "tests/test_ops.py": tests(["def test_shout():", "    assert shout('hi') == 'HI!'", ""]),
  });
  r.squashPr(2, "words ignores repeated spaces", "", {
    "textops/ops.py": ops(true, true),
    "tests/test_ops.py": tests([
      "def test_shout():",
      "    assert shout('hi') == 'HI!'",
      "",
      "def test_words():",
      "    assert words('a  b') == 2",
      "",
    ]),
  });
  return r;
}
