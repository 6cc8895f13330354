import type { StateRun, TestResult } from "../records/index.ts";
import type { Container, Limits, Sandbox } from "../sandbox/sandbox.ts";
import { InfraError, saysDiskFull } from "../util/causes.ts";
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
  /** Ends the run at once (its container removed); the run then rejects. */
  signal?: AbortSignal;
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
/** Time the staging of a state may take on top of the tests' timeout (writing files, applying patches). */
const STAGING_MS = 360_000;

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
  if (spec.signal?.aborted) throw new Error("state run stopped");
  const container = await sandbox.start({
    image: spec.image,
    network: false,
    labels: { "sweu.role": "state" },
    ...(spec.limits ? { limits: spec.limits } : {}),
  });
  const stop = () => void container.remove().catch(() => undefined);
  spec.signal?.addEventListener("abort", stop);
  try {
    if (spec.signal?.aborted) throw new Error("state run stopped");
    const raw = await runInContainer(container, spec);
    if (spec.signal?.aborted) throw new Error("state run stopped");
    return raw;
  } finally {
    spec.signal?.removeEventListener("abort", stop);
    await container.remove();
  }
}

/** A file for `stageScript`: where, what, and its mode. */
interface Staged {
  path: string;
  content: string;
  mode: number;
}

/** A shell line that writes `f` from base64 (no quoting of the content, any bytes, no argument limits). */
function stageLine(f: Staged, tag: string): string {
  const b64 = (
    Buffer.from(f.content)
      .toString("base64")
      .match(/.{1,76}/g) ?? []
  ).join("\n");
  return `base64 -d > ${q(f.path)} <<'${tag}' || exit 96\n${b64}\n${tag}\nchmod ${f.mode.toString(8)} ${q(f.path)}`;
}

/**
 * One script that writes every file a state run needs and puts /testbed into the state: the patch applied,
 * the test files restored and the test patch applied, the probe's files written, the probe's shell run. Each step's output is the
 * apply log, as when the steps ran one exec each; the last line `<tag> <outcome>` says how it ended (exit 0
 * once applied, 95 when a patch did not apply). Exits 97 before doing anything when the image has no
 * base64 (the caller stages file by file then), 96 when a file cannot be written.
 */
export function stageScript(spec: StateSpec, nonce: string, tag: string): string {
  const files: Staged[] = [
    ...(spec.patch?.trim() ? [{ path: `${DIR}/patch.diff`, content: spec.patch, mode: 0o644 }] : []),
    ...(spec.testPatch.trim() ? [{ path: `${DIR}/test.patch`, content: spec.testPatch, mode: 0o644 }] : []),
    { path: `${DIR}/evaluation.sh`, content: spec.evaluationScript, mode: 0o755 },
    { path: `${DIR}/nonce`, content: nonce, mode: 0o600 },
  ];
  const step = (body: string, failed: ApplyOutcome) =>
    `( cd /testbed && {\n${body}\n} ) || { echo; echo "${tag} ${failed}"; exit 95; }`;
  return [
    // The script carries the nonce: it deletes itself before anything else can read it.
    'command -v base64 >/dev/null 2>&1 || { rm -f -- "$0"; exit 97; }',
    `mkdir -p ${DIR} || exit 96`,
    // Umask 077 while the nonce is written: no other user of the container may read it.
    "umask 077",
    ...files.map((f) => stageLine(f, tag)),
    "umask 022",
    `rm -f -- "$0"`,
    ...(spec.patch?.trim() ? [step(applyScript(`${DIR}/patch.diff`), "patch_failed")] : []),
    ...(spec.testPatch.trim()
      ? [step(testPatchScript(spec.testPatch, `${DIR}/test.patch`), "test_patch_failed")]
      : []),
    // The probe's files, written into the tree after the patches (an existing file keeps its mode).
    ...Object.entries(spec.files ?? {}).map(([path, content]) => {
      const to = `/testbed/${path}`;
      const b64 = (
        Buffer.from(content)
          .toString("base64")
          .match(/.{1,76}/g) ?? []
      ).join("\n");
      return `mkdir -p "$(dirname ${q(to)})" && base64 -d > ${q(to)} <<'${tag}' || exit 96\n${b64}\n${tag}`;
    }),
    ...(spec.preTest ? [`( cd /testbed && {\n${spec.preTest}\n} )`] : []),
    `echo; echo "${tag} applied"`,
  ].join("\n");
}

/** The same, a file and an exec at a time (images without base64). */
async function applyStepwise(
  container: Container,
  spec: StateSpec,
  nonce: string,
): Promise<{ apply: ApplyOutcome; applyLog: string }> {
  await container.exec(`mkdir -p ${DIR}`, { timeoutMs: 30_000 });
  let applyLog = "";
  if (spec.patch?.trim()) {
    await container.writeFile(`${DIR}/patch.diff`, spec.patch);
    const r = await container.exec(applyScript(`${DIR}/patch.diff`), {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    applyLog += r.output;
    if (r.exitCode !== 0) return { apply: "patch_failed", applyLog };
  }
  if (spec.testPatch.trim()) {
    await container.writeFile(`${DIR}/test.patch`, spec.testPatch);
    const r = await container.exec(testPatchScript(spec.testPatch, `${DIR}/test.patch`), {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    applyLog += r.output;
    if (r.exitCode !== 0) return { apply: "test_patch_failed", applyLog };
  }
  for (const [path, content] of Object.entries(spec.files ?? {}))
    await container.writeFile(`/testbed/${path}`, content);
  if (spec.preTest) {
    const r = await container.exec(spec.preTest, { workdir: "/testbed", timeoutMs: 120_000 });
    applyLog += r.output;
  }
  await container.writeFile(`${DIR}/evaluation.sh`, spec.evaluationScript, 0o755);
  await container.writeFile(`${DIR}/nonce`, nonce, 0o600);
  return { apply: "applied", applyLog };
}

/** The tests' own timeout in whole seconds, as `timeout` takes it (0: none). */
const timeoutSecs = (ms: number) => (ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0);

/**
 * Kill what a run killed at its timeout left behind, also outside its process group: every process that
 * inherited the run's own marker (`SWEU_RUN`, set for the tests' shell only, so this shell lacks it).
 */
const stragglers = (tag: string) =>
  `for p in /proc/[0-9]*; do grep -qsz "^SWEU_RUN=${tag}$" "$p/environ" && kill -9 "\${p#/proc/}" 2>/dev/null; done`;

/**
 * The one exec of a state run: the staging script arrives on stdin and runs; once it says `applied`, the
 * tests run under their own timeout (evaluation.sh sourced in a login shell that read the nonce from a file
 * it deleted, as before), timed inside the container; the last line, `<tag> ran <start> <end>`, carries the
 * time (bash's EPOCHREALTIME; empty in a bash older than 5).
 */
function stateRunCommand(tag: string, timeoutMs: number): string {
  const stage = `${DIR}/stage-${newNonce()}.sh`;
  const secs = timeoutSecs(timeoutMs);
  const tests = `read -r SWEU_NONCE < ${DIR}/nonce; rm -f ${DIR}/nonce; . ${DIR}/evaluation.sh`;
  return [
    `umask 077; mkdir -p ${DIR} && cat > ${stage} || exit 96; umask 022`,
    `bash ${stage} || exit $?`,
    "t0=$EPOCHREALTIME",
    `SWEU_RUN=${tag} ${secs ? `timeout -s KILL ${secs} ` : ""}bash -lc ${q(tests)}`,
    "rc=$?",
    `echo; echo "${tag} ran $t0 $EPOCHREALTIME"`,
    `[ $rc -ne 137 ] || { ${stragglers(tag)}; }`,
    "exit $rc",
  ].join("\n");
}

/** The test run's own time from the `ran` line, in ms (undefined without EPOCHREALTIME). */
function ranMs(line: string): number | undefined {
  const [t0, t1] = line.split(" ").map((x) => Number(x.replace(",", ".")));
  return t0 && t1 ? Math.round((t1 - t0) * 1000) : undefined;
}

/**
 * Put a container into the state and run evaluation.sh once, in one engine call: the staging script on the
 * exec's stdin, the tests after it in the same exec. Images without base64 are staged a file and a step at
 * a time, then tested in an exec of their own.
 */
export async function runInContainer(container: Container, spec: StateSpec): Promise<RawStateRun> {
  const nonce = newNonce();
  const tag = `SWEU-STAGED-${newNonce()}`;
  const r = await container.exec(stateRunCommand(tag, spec.timeoutMs), {
    workdir: "/testbed",
    timeoutMs: spec.timeoutMs > 0 ? spec.timeoutMs + STAGING_MS : undefined,
    input: stageScript(spec, nonce, tag),
  });
  const at = r.output.indexOf(`\n${tag} `);
  if (at < 0 && r.exitCode === 97) return runStepwise(container, spec, nonce);
  const eol = r.output.indexOf("\n", at + 1);
  const outcome = at < 0 ? undefined : r.output.slice(at + tag.length + 2, eol < 0 ? undefined : eol).trim();
  if (!outcome || !["applied", "patch_failed", "test_patch_failed"].includes(outcome)) {
    const why = `staging the state failed (exit ${r.exitCode}): ${r.output.slice(-500)}`;
    throw new InfraError(why, r.exitCode === 96 && saysDiskFull(r.output) ? "disk_full" : "engine");
  }
  // The `echo` before each tag added a newline: the log and the output are the steps' and the tests' own.
  const base = { applyLog: r.output.slice(0, at), nonce, output: "" };
  if (outcome !== "applied")
    return { ...base, apply: outcome as ApplyOutcome, exitCode: -1, timedOut: false, durationMs: 0 };
  const rest = r.output.slice(eol + 1);
  const end = rest.lastIndexOf(`\n${tag} ran `);
  const ms = end < 0 ? undefined : ranMs(rest.slice(end + tag.length + 6).split("\n")[0]!);
  const durationMs = ms ?? r.durationMs;
  const secs = timeoutSecs(spec.timeoutMs);
  return {
    ...base,
    apply: "applied",
    output: end < 0 ? rest : rest.slice(0, end),
    exitCode: r.exitCode,
    timedOut: r.timedOut || (secs > 0 && r.exitCode === 137 && durationMs >= secs * 1000 - 50),
    durationMs,
  };
}

/** The state staged a file and a step at a time (no base64 in the image), then the tests in an exec. */
async function runStepwise(container: Container, spec: StateSpec, nonce: string): Promise<RawStateRun> {
  const staged = await applyStepwise(container, spec, nonce);
  const base = { exitCode: -1, timedOut: false, durationMs: 0, output: "", nonce };
  if (staged.apply !== "applied") return { ...base, ...staged };
  // The nonce reaches the script as a shell variable read from a file that is deleted before the script
  // runs: no process starts with it in its environment, so a test cannot read it from /proc/<ppid>/environ.
  const r = await container.exec(
    `read -r SWEU_NONCE < ${DIR}/nonce; rm -f ${DIR}/nonce; . ${DIR}/evaluation.sh`,
    { workdir: "/testbed", timeoutMs: spec.timeoutMs },
  );
  return {
    ...base,
    ...staged,
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    durationMs: r.durationMs,
    output: r.output,
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
