/** Shared pieces of the benchmarks: a synthetic repository of N task-worthy PRs, a stand-in instance. */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Instance, Task } from "../src/records/index.ts";

/** N squash-merged PRs, each changing one module and its test (so each becomes a Task). */
export function syntheticRepo(n: number, modules = 50): string {
  const dir = mkdtempSync(join(tmpdir(), "sweu-bench-repo-"));
  const git = (args: string[], input?: string) => {
    const r = spawnSync("git", args, { cwd: dir, input, encoding: "utf8", maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${r.stderr}`);
  };
  git(["init", "-q", "-b", "main"]);
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const who = (t: number) => `committer Bench <bench@example.com> ${1_600_000_000 + t * 60} +0000\n`;
  const src = (i: number) => `VERSION = ${i}\n\ndef f(x):\n    return x + ${i}\n`;
  const test = (i: number) => `from src.mod import f\n\ndef test_f():\n    assert f(0) == ${i}\n`;
  const out: string[] = [];
  const init: string[] = [];
  for (let m = 0; m < modules; m++) {
    init.push(`M 100644 inline src/mod${m}.py\n${data(src(0))}`);
    init.push(`M 100644 inline tests/test_mod${m}.py\n${data(test(0))}`);
  }
  out.push(`commit refs/heads/main\n${who(0)}${data("initial")}${init.join("")}`);
  for (let i = 1; i <= n; i++) {
    const m = i % modules;
    out.push(
      `commit refs/heads/main\n${who(i)}${data(`Change ${i} (#${i})\n\nFixes #${100_000 + i}.`)}` +
        `M 100644 inline src/mod${m}.py\n${data(src(i))}M 100644 inline tests/test_mod${m}.py\n${data(test(i))}`,
    );
  }
  git(["fast-import", "--quiet"], out.join(""));
  git(["reset", "-q", "--hard", "main"]);
  return dir;
}

/** A plausible instance for a task (what a build job would return), for benchmarks of the plumbing. */
export function standInInstance(t: Task): Instance {
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
    FAIL_TO_PASS: ["tests/test_mod.py::test_f"],
    PASS_TO_PASS: [],
    environment_setup_commit: t.base_commit,
    language: t.language,
    image: `sweu.eval.${t.instance_id}`,
    dockerfile: "FROM scratch\n",
    evaluation_script: "#!/bin/bash\npytest\n",
    parser: "pytest",
    environment_key: "bench",
    validation: {
      runs_per_state: 1,
      runs: [],
      fail_to_pass: ["tests/test_mod.py::test_f"],
      pass_to_pass: [],
      flaky: [],
      image_rebuilt: true,
    },
    checks: [],
    builder: { kind: "recipe", name: "bench", attempts: 1 },
    cost: { wall_ms: 0, build_ms: 0, validate_ms: 0, prompt_tokens: 0, completion_tokens: 0, usd: 0 },
  };
}

export const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
export const fmt = (n: number, d = 2) => n.toFixed(d);
