import { type RawStateRun, runStateRaw, type StateSpec } from "../harness/run-state.ts";
import type { CheckVerdict, Task } from "../records/index.ts";
import type { Limits, Sandbox } from "../sandbox/sandbox.ts";
import { sq } from "../util/shell.ts";
import { type Judge, OUR_JUDGE, type RunOutcome } from "./outcome.ts";
import { embedsTestPatch } from "./static-patch.ts";

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

/** What makes a file fail on load, by extension, appended at its end. */
export const POISON: Record<string, string> = {
  py: '\nraise RuntimeError("sweu: poisoned by the audit")\n',
  rb: '\nraise "sweu: poisoned by the audit"\n',
  go: "\nvar _ = sweuPoisonedByTheAudit\n",
  rs: '\ncompile_error!("sweu: poisoned by the audit");\n',
  java: "\n#sweu poisoned by the audit\n",
  kt: "\n#sweu poisoned by the audit\n",
  scala: "\n#sweu poisoned by the audit\n",
  cs: "\n#error sweu: poisoned by the audit\n",
  swift: '\n#error("sweu: poisoned by the audit")\n',
  lua: '\nerror("sweu: poisoned by the audit")\n',
  ...Object.fromEntries(
    ["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"].map((e) => [
      e,
      '\n;throw new Error("sweu: poisoned by the audit");\n',
    ]),
  ),
  ...Object.fromEntries(
    ["c", "h", "cc", "cpp", "cxx", "hpp", "hh"].map((e) => [e, '\n#error "sweu: poisoned by the audit"\n']),
  ),
};

/** A file of a language whose files can be made to fail on load (type declarations aside). */
export const isCode = (path: string) =>
  !!POISON[(/\.([^./]+)$/.exec(path)?.[1] ?? "").toLowerCase()] && !/\.d\.[mc]?ts$/.test(path);

/** Shell that appends to each existing file what makes it fail on load. */
export function poisonScript(paths: string[]): string {
  const lines = paths.map((p) => {
    const text = POISON[(/\.([^./]+)$/.exec(p)?.[1] ?? "").toLowerCase()]!;
    return `[ -f ${sq(p)} ] && printf %s ${sq(Buffer.from(text).toString("base64"))} | base64 -d >> ${sq(p)}`;
  });
  return `${lines.join("\n")}\ntrue`;
}

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

/**
 * Why a run of our own evaluation.sh says nothing about it, else undefined (the default judge: a run the
 * engine or the machine cut short, or one that never printed the start marker).
 */
export function inconclusive(raw: RawStateRun, timeoutMs: number): string | undefined {
  if (raw.apply !== "applied") return undefined;
  return OUR_JUDGE(raw, timeoutMs).inconclusive;
}

export type ProbeRun = { raw: RawStateRun; inconclusive?: string; outcome: RunOutcome };

/**
 * A probe run, judged by `judge` (default: ours), tried once more when the first one was inconclusive (a
 * timeout too, unless `retryTimeout` is false: the load probe reads a timeout as a slow suite).
 */
export async function probeRun(
  run: () => Promise<RawStateRun>,
  timeoutMs: number,
  o: { retryTimeout?: boolean; judge?: Judge } = {},
): Promise<ProbeRun> {
  const judge = o.judge ?? OUR_JUDGE;
  const once = async () => {
    const raw = await run();
    const outcome: RunOutcome =
      raw.apply === "applied"
        ? judge(raw, timeoutMs)
        : { passed: false, detail: `not applied (${raw.apply})` };
    return { raw, outcome, inconclusive: outcome.inconclusive };
  };
  let r = await once();
  if (r.inconclusive && !(r.raw.timedOut && o.retryTimeout === false)) r = await once();
  return r;
}

export interface ProbeOptions {
  sandbox: Sandbox;
  image: string;
  evaluationScript: string;
  timeoutMs: number;
  /** How a run is judged (the audit's baseline chooses; default: exit code and our nonce markers). */
  judge?: Judge;
  /** Container limits for every run (the audit bounds processes and memory). */
  limits?: Limits;
}

/** What a probe expects of an honest verifier in its state, and what to say either way. */
export interface ProbeSpec {
  check: string;
  /** The state: a patch (default none) and shell run before the tests. */
  patch?: string;
  testPatch: string;
  /** Files written after the patches (repository-relative path → content). */
  files?: Record<string, string>;
  preTest?: string;
  /** An honest verifier fails this state ("fail") or passes it ("pass"). */
  honest: "fail" | "pass";
  /** Said when the verifier does what a dishonest one does. */
  caught: string;
  /** Said when it behaves honestly; gets the outcome's detail ("exit 1"). */
  ok: (detail: string) => string;
}

export const verdict = (check: string, passed: boolean, reasons: string[]): CheckVerdict => ({
  check,
  kind: "dynamic",
  passed,
  reasons,
});

/** Run one probe state (tried once more when inconclusive) in a fresh container. */
export function runProbe(
  p: Pick<ProbeSpec, "patch" | "testPatch" | "files" | "preTest">,
  o: ProbeOptions,
): Promise<ProbeRun> {
  const spec: StateSpec = {
    image: o.image,
    patch: p.patch,
    testPatch: p.testPatch,
    evaluationScript: o.evaluationScript,
    timeoutMs: o.timeoutMs,
    ...(p.files ? { files: p.files } : {}),
    ...(p.preTest ? { preTest: p.preTest } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
  };
  return probeRun(() => runStateRaw(o.sandbox, spec), o.timeoutMs, { judge: o.judge });
}

/** A probe run as a verdict: not applicable, failed closed, or what the verifier did against what an honest one does. */
export function judgeProbe(p: ProbeSpec, run: ProbeRun): CheckVerdict {
  if (run.raw.apply !== "applied")
    return verdict(p.check, true, [`not applicable: the probe's patch did not apply (${run.raw.apply})`]);
  if (run.inconclusive)
    return verdict(p.check, false, [
      `inconclusive twice (${run.inconclusive}): the probe fails closed, since it could not show the verifier honest`,
    ]);
  const honest = p.honest === "pass" ? run.outcome.passed : !run.outcome.passed;
  return honest
    ? verdict(p.check, true, [p.ok(run.outcome.detail)])
    : verdict(p.check, false, [`${p.caught} (${run.outcome.detail})`]);
}

/** Run one probe state and judge it: the common body of every behaviour probe. */
export async function probeState(p: ProbeSpec, o: ProbeOptions): Promise<CheckVerdict> {
  return judgeProbe(p, await runProbe(p, o));
}

/** Buggy state plus the fix as comments must still fail. */
export async function commentProbe(task: Task, o: ProbeOptions): Promise<CheckVerdict> {
  const patch = commentProbePatch(task.patch);
  if (!patch) return verdict("comment-probe", true, ["not applicable: no commentable file in the fix"]);
  return probeState(
    {
      check: "comment-probe",
      patch,
      testPatch: task.test_patch,
      honest: "fail",
      caught:
        "the verifier passes when the fix is present only as comments: it reads the source instead of running it",
      ok: (d) => `${d} with the fix commented out`,
    },
    o,
  );
}

/**
 * Resolved state with the PR's tests made to fail must not pass: its test files in a language we know get
 * what makes them fail on load (a raise, a throw, a compile error); other test files are deleted. (Deleting
 * a test file lets runners that find no tests exit 0 — `go test`, `node --test` — whatever the verifier.)
 */
export async function noTestsProbe(task: Task, testFiles: string[], o: ProbeOptions): Promise<CheckVerdict> {
  if (!testFiles.length) return verdict("no-tests-probe", true, ["not applicable: no test files"]);
  if (embedsTestPatch(o.evaluationScript, task.test_patch))
    return verdict("no-tests-probe", true, [
      "not applicable: the script restores the test files and applies its own copy of the test patch, so the PR's tests cannot be taken from it",
    ]);
  const code = testFiles.filter(isCode);
  const rm = testFiles.filter((f) => !isCode(f)).map((f) => `rm -f ${sq(f)}`);
  return probeState(
    {
      check: "no-tests-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      preTest: [...(code.length ? [poisonScript(code)] : rm)].join("\n"),
      honest: "fail",
      caught: `the verifier passes with the PR's tests ${code.length ? "made to fail" : "deleted"}: it does not depend on them`,
      ok: (d) => `${d} with the PR's tests ${code.length ? "made to fail" : "deleted"}`,
    },
    o,
  );
}
