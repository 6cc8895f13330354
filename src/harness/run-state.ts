import type { StateRun, TestResult } from "../records/index.ts";
import type { Container, Limits, Sandbox } from "../sandbox/sandbox.ts";
import { sq } from "../util/shell.ts";
import { newNonce } from "./output.ts";

/** What a fresh container needs to be put into a state and tested. */
export interface StateSpec {
  image: string;
  /** Applied first (gold or candidate patch); empty/undefined = none. */
  patch?: string;
  /** Applied after the files it touches are restored to the base commit. */
  testPatch: string;
  evaluationScript: string;
  timeoutMs: number;
  /** Files written into /testbed after the patches (repository-relative paths; probes rewrite code with it). */
  files?: Record<string, string>;
  /** Extra shell run after the patches and the files, before the tests (probes use it). */
  preTest?: string;
  /** Container limits (the load probe runs under a CPU quota). */
  limits?: Limits;
}

export type ApplyOutcome = "applied" | "patch_failed" | "test_patch_failed";

export interface RawStateRun {
  apply: ApplyOutcome;
  applyLog: string;
  exitCode: number;
  timedOut: boolean;
  durationMs: number;
  output: string;
  nonce: string;
}

const DIR = "/tmp/sweu";

/** Files a unified diff touches (both sides), from its `diff --git` headers. */
export function patchFiles(patch: string): string[] {
  const files = new Set<string>();
  for (const m of patch.matchAll(/^diff --git a\/(.+?) b\/(.+?)$/gm)) {
    files.add(m[1]!);
    files.add(m[2]!);
  }
  return [...files];
}

const q = sq;

/** Files a patch leaves in place (added or modified, not deleted): for a test patch, the tests that run. */
export function presentFiles(patch: string): string[] {
  const out: string[] = [];
  for (const m of patch.matchAll(/^\+\+\+ (?:b\/(.+)|\/dev\/null)$/gm)) if (m[1]) out.push(m[1]);
  return [...new Set(out)];
}

/** Test files the task's test patch leaves in place. */
export function presentTestFiles(task: { test_patch: string }): string[] {
  return presentFiles(task.test_patch);
}

/**
 * Apply a patch with increasing tolerance: git apply, git apply --3way, then patch --fuzz.
 * Shared by validation and the evaluation harness, so both judge patches the same way.
 */
export function applyScript(patchPath: string): string {
  return [
    `git apply -v ${patchPath} 2>&1 && exit 0`,
    `git apply -v --3way ${patchPath} 2>&1 && exit 0`,
    `git checkout -q -- . 2>/dev/null; patch --batch --fuzz=5 -p1 -i ${patchPath} 2>&1 && exit 0`,
    "exit 1",
  ].join("\n");
}

/** Restore every file the test patch touches to the base commit, then apply the test patch. */
export function testPatchScript(testPatch: string, patchPath: string): string {
  const restore = patchFiles(testPatch).map(
    (f) =>
      `if git cat-file -e HEAD:${q(f)} 2>/dev/null; then git checkout -q HEAD -- ${q(f)}; else rm -f ${q(f)}; fi`,
  );
  return [...restore, `git apply -v ${patchPath} 2>&1`].join("\n");
}

/** Put a container into a state (patches applied) and run evaluation.sh once. The container is removed. */
export async function runStateRaw(sandbox: Sandbox, spec: StateSpec): Promise<RawStateRun> {
  const container = await sandbox.start({
    image: spec.image,
    network: false,
    labels: { "sweu.role": "state" },
    ...(spec.limits ? { limits: spec.limits } : {}),
  });
  try {
    return await runInContainer(container, spec);
  } finally {
    await container.remove();
  }
}

export async function runInContainer(container: Container, spec: StateSpec): Promise<RawStateRun> {
  const nonce = newNonce();
  const base: Omit<RawStateRun, "apply" | "applyLog"> = {
    exitCode: -1,
    timedOut: false,
    durationMs: 0,
    output: "",
    nonce,
  };
  await container.exec(`mkdir -p ${DIR}`, { timeoutMs: 30_000 });
  let applyLog = "";
  if (spec.patch?.trim()) {
    await container.writeFile(`${DIR}/patch.diff`, spec.patch);
    const r = await container.exec(applyScript(`${DIR}/patch.diff`), {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    applyLog += r.output;
    if (r.exitCode !== 0) return { ...base, apply: "patch_failed", applyLog };
  }
  if (spec.testPatch.trim()) {
    await container.writeFile(`${DIR}/test.patch`, spec.testPatch);
    const r = await container.exec(testPatchScript(spec.testPatch, `${DIR}/test.patch`), {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    applyLog += r.output;
    if (r.exitCode !== 0) return { ...base, apply: "test_patch_failed", applyLog };
  }
  for (const [path, content] of Object.entries(spec.files ?? {}))
    await container.writeFile(`/testbed/${path}`, content);
  if (spec.preTest) {
    const r = await container.exec(spec.preTest, { workdir: "/testbed", timeoutMs: 120_000 });
    applyLog += r.output;
  }
  await container.writeFile(`${DIR}/evaluation.sh`, spec.evaluationScript, 0o755);
  // The nonce reaches the script as a shell variable read from a file that is deleted before the script
  // runs: no process starts with it in its environment, so a test cannot read it from /proc/<ppid>/environ.
  await container.writeFile(`${DIR}/nonce`, nonce, 0o600);
  const r = await container.exec(
    `read -r SWEU_NONCE < ${DIR}/nonce; rm -f ${DIR}/nonce; . ${DIR}/evaluation.sh`,
    { workdir: "/testbed", timeoutMs: spec.timeoutMs },
  );
  return {
    apply: "applied",
    applyLog,
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    output: r.output,
    nonce,
  };
}

export type OutputParser = (output: string, nonce: string) => { tests: TestResult[]; parsed: boolean };

export function toStateRun(
  state: StateRun["state"],
  raw: RawStateRun,
  parse: OutputParser,
  tailBytes = 20_000,
): StateRun {
  const { tests, parsed } = parse(raw.output, raw.nonce);
  const log = raw.applyLog + raw.output;
  return {
    state,
    exit_code: raw.exitCode,
    timed_out: raw.timedOut,
    duration_ms: raw.durationMs,
    tests,
    parsed,
    log_tail: log.length > tailBytes ? log.slice(-tailBytes) : log,
  };
}
