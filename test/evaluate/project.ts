/**
 * A tiny Python stdlib-unittest project with a bug, its fix and a new test, baked into an image at
 * /testbed from the base image. Patches are made with real git in a temp repo.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Instance } from "../../src/records/index.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { runOk } from "../../src/util/exec.ts";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
  GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
};

export const CALC_BUGGY = `def add(a, b):
    return a - b


def sub(a, b):
    return a - b
`;

export const CALC_FIXED = CALC_BUGGY.replace("return a - b\n\n\ndef sub", "return a + b\n\n\ndef sub");

const TEST_BASE = `import unittest

import calc


class CalcTest(unittest.TestCase):
    def test_sub(self):
        self.assertEqual(calc.sub(5, 3), 2)
`;

const TEST_NEW = `${TEST_BASE}
    def test_add(self):
        self.assertEqual(calc.add(2, 3), 5)
`;

/** Follows the output contract: nonce saved and unset first, a build step outside the markers. */
export const EVALUATION_SH = `#!/bin/bash
nonce="$SWEU_NONCE"
unset SWEU_NONCE
cd /testbed
python3 -c 'import calc' || exit 1
echo ">>>>> SWEU TEST OUTPUT START $nonce"
python3 -m unittest -v tests.test_calc 2>&1
rc=$?
echo ">>>>> SWEU TEST OUTPUT END $nonce"
exit $rc
`;

export const F2P = "tests.test_calc.CalcTest.test_add";
export const P2P = "tests.test_calc.CalcTest.test_sub";

export interface Project {
  dir: string;
  baseCommit: string;
  goldPatch: string;
  testPatch: string;
  /** A patch of calc.py from the base state to `content`. */
  patchTo(content: string): Promise<string>;
}

async function git(dir: string, ...args: string[]): Promise<string> {
  return runOk("git", args, { cwd: dir, env: GIT_ENV });
}

export async function makeProject(root: string): Promise<Project> {
  const dir = join(root, "testbed");
  mkdirSync(join(dir, "tests"), { recursive: true });
  writeFileSync(join(dir, "calc.py"), CALC_BUGGY);
  writeFileSync(join(dir, "tests", "__init__.py"), "");
  writeFileSync(join(dir, "tests", "test_calc.py"), TEST_BASE);
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "add", "-A");
  await git(dir, "commit", "-q", "-m", "base");
  const baseCommit = (await git(dir, "rev-parse", "HEAD")).trim();
  const diffAfter = async (file: string, content: string) => {
    writeFileSync(join(dir, file), content);
    const d = await git(dir, "diff");
    await git(dir, "checkout", "-q", "--", ".");
    return d;
  };
  const testPatch = await diffAfter("tests/test_calc.py", TEST_NEW);
  const goldPatch = await diffAfter("calc.py", CALC_FIXED);
  return { dir, baseCommit, goldPatch, testPatch, patchTo: (c) => diffAfter("calc.py", c) };
}

/** Build (or reuse, keyed by content) the project image: base image + python3 + /testbed. */
export async function buildProjectImage(sandbox: Sandbox, project: Project): Promise<string> {
  const base = await ensureBaseImage(sandbox);
  const dockerfile = [
    `FROM ${base}`,
    "RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*",
    "COPY testbed /testbed",
    "WORKDIR /testbed",
    "",
  ].join("\n");
  const hash = createHash("sha256").update(dockerfile).update(project.baseCommit).digest("hex").slice(0, 12);
  const tag = `localhost/sweu-test-evaluate:${hash}`;
  if (await sandbox.imageExists(tag)) return tag;
  const ctx = mkdtempSync(join(tmpdir(), "sweu-eval-ctx-"));
  try {
    cpSync(project.dir, join(ctx, "testbed"), { recursive: true });
    const r = await sandbox.build({ tag, dockerfile, contextDir: ctx, network: true, timeoutMs: 600_000 });
    if (!r.ok) throw new Error(`test image build failed:\n${r.log.slice(-3000)}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return tag;
}

export function projectInstance(project: Project, image: string): Instance {
  return Instance.parse({
    instance_id: "acme__calc-1",
    repo: "acme/calc",
    base_commit: project.baseCommit,
    patch: project.goldPatch,
    test_patch: project.testPatch,
    problem_statement: "add() subtracts.",
    hints_text: "",
    created_at: "2024-01-01T00:00:00Z",
    version: "1",
    FAIL_TO_PASS: [F2P],
    PASS_TO_PASS: [P2P],
    environment_setup_commit: project.baseCommit,
    language: "python",
    image,
    dockerfile: "FROM base",
    evaluation_script: EVALUATION_SH,
    parser: "unittest",
    environment_key: "calc-env",
    validation: {
      runs_per_state: 1,
      runs: [],
      fail_to_pass: [F2P],
      pass_to_pass: [P2P],
      flaky: [],
      image_rebuilt: true,
    },
    checks: [],
    builder: { kind: "recipe", name: "hand-written", attempts: 1 },
    cost: {},
  });
}
