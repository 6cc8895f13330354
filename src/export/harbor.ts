/**
 * Harbor task folders (harborframework.com/docs/tasks): one folder per instance that Harbor, and the
 * trainers and gyms that read its format, run with no code of ours.
 *
 *   instruction.md        what the agent is handed: the problem statement
 *   task.toml             timeouts, resources, network off, and where the instance came from
 *   environment/          the agent's container: FROM the instance's pullable image_name, or, when the image
 *                         was never pushed, a portable build context (src/export/portable.ts)
 *   tests/test.sh         the verifier, uploaded after the agent finished: runs eval_script.sh and writes
 *                         1 or 0 to /logs/verifier/reward.txt
 *   tests/eval_script.sh  the dataset's self-contained eval_script
 *   solution/solve.sh     the gold patch, applied (Harbor's oracle agent runs it)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderEvalScript } from "../harness/eval-script.ts";
import type { Instance } from "../records/index.ts";
import { pullable } from "../sandbox/image.ts";
import { inside, safeFileName } from "../util/safe-name.ts";
import { type PortableContext, writePortableContext } from "./portable.ts";

export interface HarborOptions {
  /** Where the repository's commits are, to build a portable context for images that were never pushed. */
  source?: { gitDir: string; resolvedCommit: string };
  verifierTimeoutSec?: number;
  agentTimeoutSec?: number;
}

const tomlString = (s: string) => JSON.stringify(s);

export function harborTaskToml(inst: Instance, o: HarborOptions, dockerImage?: string): string {
  const list = (xs: readonly string[]) => `[${xs.map(tomlString).join(", ")}]`;
  return [
    'version = "1.0"',
    "",
    "[metadata]",
    `source = "swe-universe"`,
    `instance_id = ${tomlString(inst.instance_id)}`,
    `repo = ${tomlString(inst.repo)}`,
    `base_commit = ${tomlString(inst.base_commit)}`,
    `language = ${tomlString(inst.language)}`,
    `category = "programming"`,
    `tags = ${list(["swe", inst.language])}`,
    `fail_to_pass = ${list(inst.FAIL_TO_PASS)}`,
    `pass_to_pass = ${list(inst.PASS_TO_PASS)}`,
    "",
    "[verifier]",
    `timeout_sec = ${(o.verifierTimeoutSec ?? 1800).toFixed(1)}`,
    "",
    "[agent]",
    `timeout_sec = ${(o.agentTimeoutSec ?? 3600).toFixed(1)}`,
    "",
    "[environment]",
    "build_timeout_sec = 1800.0",
    ...(dockerImage ? [`docker_image = ${tomlString(dockerImage)}`] : []),
    // Evaluation runs offline; an agent that can reach the network can fetch the upstream fix.
    "allow_internet = false",
    "",
  ].join("\n");
}

function heredocPatch(patch: string): string[] {
  const body = patch.endsWith("\n") ? patch : `${patch}\n`;
  return ["git apply -v <<'SWEU_GOLD_PATCH'", body.replace(/\n$/, ""), "SWEU_GOLD_PATCH"];
}

export function harborTestScript(): string {
  return [
    "#!/bin/bash",
    "# The instance's verifier: exit 0 of eval_script.sh = reward 1.",
    "mkdir -p /logs/verifier",
    "bash /tests/eval_script.sh",
    "rc=$?",
    'if [ "$rc" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt; else echo 0 > /logs/verifier/reward.txt; fi',
    'echo "eval_script exit code: $rc"',
    "",
  ].join("\n");
}

/** Write one Harbor task folder for `inst` under `outDir`; returns its path and what its context lacks. */
export async function writeHarborTask(
  outDir: string,
  inst: Instance,
  o: HarborOptions = {},
): Promise<{ dir: string; needs: string[] }> {
  const dir = inside(outDir, safeFileName(inst.instance_id));
  for (const d of ["environment", "tests", "solution"]) mkdirSync(join(dir, d), { recursive: true });
  const image = inst.image_name ?? inst.image;
  const remote = pullable(image) ? image : undefined;
  writeFileSync(join(dir, "instruction.md"), `${inst.problem_statement.trimEnd()}\n`);
  writeFileSync(join(dir, "task.toml"), harborTaskToml(inst, o, remote));
  let ctx: PortableContext = { files: [], needs: [] };
  if (remote) writeFileSync(join(dir, "environment", "Dockerfile"), `FROM ${remote}\nWORKDIR /testbed\n`);
  else if (o.source) ctx = await writePortableContext(join(dir, "environment"), inst, o.source);
  else {
    ctx.needs.push(
      `the image ${image}: it was never pushed to a registry and the repository's clone is not at hand, ` +
        "so environment/ holds only a Dockerfile FROM that local tag (push with --registry, or export from the run folder)",
    );
    writeFileSync(join(dir, "environment", "Dockerfile"), `FROM ${image}\nWORKDIR /testbed\n`);
    writeFileSync(join(dir, "environment", "NEEDS.md"), `# Not in this folder\n\n- ${ctx.needs[0]}\n`);
  }
  writeFileSync(join(dir, "tests", "test.sh"), harborTestScript(), { mode: 0o755 });
  writeFileSync(join(dir, "tests", "eval_script.sh"), renderEvalScript(inst), { mode: 0o755 });
  const solve = ["#!/bin/bash", "set -euo pipefail", "cd /testbed", ...heredocPatch(inst.patch), ""];
  writeFileSync(join(dir, "solution", "solve.sh"), solve.join("\n"), { mode: 0o755 });
  return { dir, needs: ctx.needs };
}
