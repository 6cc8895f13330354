import { MARK } from "../harness/output.ts";
import { type RawStateRun, runStateRaw } from "../harness/run-state.ts";
import type { CheckVerdict, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { sq } from "../util/shell.ts";

/** Line-comment syntax by file extension, for the comment probe. Files not listed are left out of it. */
const COMMENT_PREFIX: Record<string, string> = {
  py: "#",
  pyi: "#",
  rb: "#",
  sh: "#",
  bash: "#",
  pl: "#",
  r: "#",
  jl: "#",
  ex: "#",
  exs: "#",
  js: "//",
  jsx: "//",
  mjs: "//",
  cjs: "//",
  ts: "//",
  tsx: "//",
  mts: "//",
  cts: "//",
  go: "//",
  java: "//",
  kt: "//",
  kts: "//",
  scala: "//",
  rs: "//",
  c: "//",
  h: "//",
  cc: "//",
  cpp: "//",
  cxx: "//",
  hpp: "//",
  hh: "//",
  cs: "//",
  swift: "//",
  php: "//",
  dart: "//",
  zig: "//",
  lua: "--",
  hs: "--",
  sql: "--",
};

export function commentPrefix(path: string): string | undefined {
  const ext = path.split(".").pop()?.toLowerCase() ?? "";
  return COMMENT_PREFIX[ext];
}

/**
 * The comment probe's patch: the fix's removed lines kept, its added lines inserted only as comments.
 * Code behaves exactly as in the buggy state, yet every keyword of the fix is in the source, so a
 * verifier that greps the source is fooled and one that runs the tests is not.
 * Returns undefined when no file of the fix can be commented (nothing to probe).
 */
export function commentProbePatch(patch: string): string | undefined {
  const sections = patch.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));
  const out: string[] = [];
  for (const section of sections) {
    const header = /^diff --git a\/(.+?) b\/(.+?)$/m.exec(section);
    if (!header) continue;
    const path = header[2]!;
    const prefix = commentPrefix(path);
    if (!prefix) continue;
    if (/^(deleted file mode|rename from|copy from|Binary files|GIT binary patch)/m.test(section)) continue;
    if (section.includes("\\ No newline at end of file")) continue;
    const lines = section.split("\n");
    const firstHunk = lines.findIndex((l) => l.startsWith("@@"));
    if (firstHunk < 0) continue;
    const head = lines.slice(0, firstHunk);
    const body: string[] = [];
    let shift = 0;
    let hunk: { oldStart: number; oldCount: number; added: number; lines: string[] } | undefined;
    const flush = () => {
      if (!hunk) return;
      const newStart = hunk.oldCount === 0 ? hunk.oldStart + shift + 1 : hunk.oldStart + shift;
      const start = hunk.oldCount === 0 && hunk.oldStart === 0 ? 1 : newStart;
      body.push(
        `@@ -${hunk.oldStart},${hunk.oldCount} +${start},${hunk.oldCount + hunk.added} @@`,
        ...hunk.lines,
      );
      shift += hunk.added;
      hunk = undefined;
    };
    for (const line of lines.slice(firstHunk)) {
      const h = /^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/.exec(line);
      if (h) {
        flush();
        hunk = {
          oldStart: Number(h[1]),
          oldCount: h[2] === undefined ? 1 : Number(h[2]),
          added: 0,
          lines: [],
        };
      } else if (!hunk) {
      } else if (line.startsWith("-")) {
        hunk.lines.push(` ${line.slice(1)}`);
      } else if (line.startsWith("+")) {
        const text = line.slice(1);
        const indent = /^\s*/.exec(text)![0];
        hunk.lines.push(`+${indent}${prefix} ${text.slice(indent.length)}`.trimEnd());
        hunk.added++;
      } else if (line.startsWith(" ")) {
        hunk.lines.push(line);
      }
    }
    flush();
    if (body.length) out.push([...head, ...body].join("\n"));
  }
  return out.length ? `${out.join("\n")}\n` : undefined;
}

/** Exit codes that come from the engine or the machine, not from the tests. */
const ENGINE_EXITS: Record<number, string> = {
  125: "the container engine failed",
  126: "a command could not be executed",
  127: "a command was not found",
  137: "killed (out of memory or by the engine)",
};

/**
 * Why a probe run says nothing about the verifier, else undefined. A probe is meant to fail for the
 * verifier's reasons; a run that the engine or the machine cut short must not count as a pass.
 */
export function inconclusive(raw: RawStateRun, timeoutMs: number): string | undefined {
  if (raw.apply !== "applied") return undefined;
  if (raw.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)}s`;
  if (raw.exitCode < 0) return "the script could not be run in the container";
  if (ENGINE_EXITS[raw.exitCode]) return `exit ${raw.exitCode}: ${ENGINE_EXITS[raw.exitCode]}`;
  if (!raw.output.includes(MARK.testStart(raw.nonce))) return "the script ended before its tests started";
  return undefined;
}

type ProbeRun = { raw: RawStateRun; inconclusive?: string };

/**
 * A probe run, tried once more when the first one was inconclusive (a timeout too, unless
 * `retryTimeout` is false: the load probe reads a timeout as a slow suite).
 */
export async function probeRun(
  run: () => Promise<RawStateRun>,
  timeoutMs: number,
  o: { retryTimeout?: boolean } = {},
): Promise<ProbeRun> {
  let raw = await run();
  let why = inconclusive(raw, timeoutMs);
  if (why && !(raw.timedOut && o.retryTimeout === false)) {
    raw = await run();
    why = inconclusive(raw, timeoutMs);
  }
  return { raw, inconclusive: why };
}

function failClosed(check: "comment-probe" | "no-tests-probe", why: string): CheckVerdict {
  return {
    check,
    kind: "dynamic",
    passed: false,
    reasons: [
      `inconclusive twice (${why}): the probe fails closed, since it could not show the verifier honest`,
    ],
  };
}

export interface ProbeOptions {
  sandbox: Sandbox;
  image: string;
  evaluationScript: string;
  timeoutMs: number;
}

/** Buggy state plus the fix as comments must still fail. */
export async function commentProbe(task: Task, o: ProbeOptions): Promise<CheckVerdict> {
  const patch = commentProbePatch(task.patch);
  if (!patch)
    return {
      check: "comment-probe",
      kind: "dynamic",
      passed: true,
      reasons: ["not applicable: no commentable file in the fix"],
    };
  const { raw, inconclusive: why } = await probeRun(
    () =>
      runStateRaw(o.sandbox, {
        image: o.image,
        patch,
        testPatch: task.test_patch,
        evaluationScript: o.evaluationScript,
        timeoutMs: o.timeoutMs,
      }),
    o.timeoutMs,
  );
  if (why) return failClosed("comment-probe", why);
  if (raw.apply !== "applied")
    return {
      check: "comment-probe",
      kind: "dynamic",
      passed: true,
      reasons: [`not applicable: probe patch did not apply (${raw.apply})`],
    };
  if (raw.exitCode === 0 && !raw.timedOut)
    return {
      check: "comment-probe",
      kind: "dynamic",
      passed: false,
      reasons: [
        "the verifier passes when the fix is present only as comments: it reads the source instead of running it",
      ],
    };
  return {
    check: "comment-probe",
    kind: "dynamic",
    passed: true,
    reasons: [`exit ${raw.exitCode} with the fix commented out`],
  };
}

/** Resolved state with the PR's test files removed must not pass. */
export async function noTestsProbe(task: Task, testFiles: string[], o: ProbeOptions): Promise<CheckVerdict> {
  if (!testFiles.length)
    return {
      check: "no-tests-probe",
      kind: "dynamic",
      passed: true,
      reasons: ["not applicable: no test files"],
    };
  const rm = testFiles.map((f) => `rm -f ${sq(f)}`).join("\n");
  const { raw, inconclusive: why } = await probeRun(
    () =>
      runStateRaw(o.sandbox, {
        image: o.image,
        patch: task.patch,
        testPatch: task.test_patch,
        evaluationScript: o.evaluationScript,
        timeoutMs: o.timeoutMs,
        preTest: rm,
      }),
    o.timeoutMs,
  );
  if (why) return failClosed("no-tests-probe", why);
  if (raw.apply === "applied" && raw.exitCode === 0 && !raw.timedOut)
    return {
      check: "no-tests-probe",
      kind: "dynamic",
      passed: false,
      reasons: ["the verifier passes with the PR's tests deleted: it does not depend on them"],
    };
  return {
    check: "no-tests-probe",
    kind: "dynamic",
    passed: true,
    reasons: [`exit ${raw.exitCode} without the PR's tests`],
  };
}
