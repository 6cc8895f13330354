import type { CheckVerdict, Task } from "../../records/index.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { runStateRaw } from "../run-state.ts";

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
  const raw = await runStateRaw(o.sandbox, {
    image: o.image,
    patch,
    testPatch: task.test_patch,
    evaluationScript: o.evaluationScript,
    timeoutMs: o.timeoutMs,
  });
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
  const rm = testFiles.map((f) => `rm -f '${f.replace(/'/g, `'\\''`)}'`).join("\n");
  const raw = await runStateRaw(o.sandbox, {
    image: o.image,
    patch: task.patch,
    testPatch: task.test_patch,
    evaluationScript: o.evaluationScript,
    timeoutMs: o.timeoutMs,
    preTest: rm,
  });
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
