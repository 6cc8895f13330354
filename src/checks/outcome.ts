/**
 * How one run of a verifier is judged: did it pass the state (reward 1) or not, and does the run say
 * anything at all (a run the engine or the machine cut short does not). Two conventions, as verifiers are
 * written:
 * - exit code (ours, SkyRL-, SWE-Gym- and Multi-SWE-bench-style scripts): 0 passes. Where a script prints
 *   our nonce markers, a run without them is cut short, and the tests they frame are read;
 * - SWE-bench's log: its scripts end with a `git checkout` of the test files, so they exit 0 whatever the
 *   tests did; its harness reads the section between `>>>>> Start Test Output` and `>>>>> End Test Output`
 *   with a log parser and grades FAIL_TO_PASS and PASS_TO_PASS (and, since SWE-bench 5, the test command's
 *   own status printed as `>>>>> Test Exit Code: N`). The audit learns which convention a verifier follows
 *   from its baseline (src/checks/baseline.ts) and judges every probe the same way.
 */
import { extractSections, MARK } from "../harness/output.ts";
import { getParser, parserNames } from "../harness/parsers/index.ts";
import type { RawStateRun } from "../harness/run-state.ts";
import type { TestResult } from "../records/index.ts";

export type Convention = "exit-code" | "swebench-log";

export interface RunOutcome {
  /** The verifier passed this state: exit 0, or every listed test passes in its log. */
  passed: boolean;
  /** Why the run says nothing about the verifier (timed out, killed, cut short by the engine). */
  inconclusive?: string;
  /** What decided, in words: "exit 1", "2 of 4 listed tests fail in its log (…)". */
  detail: string;
  /** Per-test results, where the run printed a section we can read. */
  tests?: TestResult[];
}

export type Judge = (raw: RawStateRun, timeoutMs: number) => RunOutcome;

/** Exit codes that come from the engine or the machine, not from the tests. */
export const ENGINE_EXITS: Record<number, string> = {
  125: "the container engine failed",
  126: "a command could not be executed",
  127: "a command was not found",
  137: "killed (out of memory or by the engine)",
};

/**
 * Why a run was cut short, else undefined. `strict`: 126 and 127 count too, as for our own scripts, whose
 * commands were checked when they were written; a foreign verifier's 127 is its own failure.
 */
export function cutShort(raw: RawStateRun, timeoutMs: number, strict: boolean): string | undefined {
  if (raw.timedOut) return `timed out after ${Math.round(timeoutMs / 1000)}s`;
  if (raw.exitCode < 0) return "the script could not be run in the container";
  if (ENGINE_EXITS[raw.exitCode] && (strict || raw.exitCode === 125 || raw.exitCode === 137))
    return `exit ${raw.exitCode}: ${ENGINE_EXITS[raw.exitCode]}`;
  return undefined;
}

/** The script prints our nonce markers (it reads SWEU_NONCE). */
export const usesOurMarkers = (script: string) => /\bSWEU_NONCE\b/.test(script);

/** Judge by the exit code; `markers`: a run must print our start marker to count. */
export function exitJudge(o: { markers: boolean; parser?: string }): Judge {
  return (raw, timeoutMs) => {
    const cut = cutShort(raw, timeoutMs, o.markers);
    if (cut) return { passed: false, inconclusive: cut, detail: cut };
    if (o.markers && !raw.output.includes(MARK.testStart(raw.nonce)))
      return {
        passed: false,
        inconclusive: "the script ended before its tests started",
        detail: "no test section",
      };
    const section = o.markers ? extractSections(raw.output, raw.nonce).testOutput : undefined;
    const tests = section !== undefined && o.parser ? safeParse(o.parser, section) : undefined;
    return {
      passed: raw.exitCode === 0,
      detail: `exit ${raw.exitCode}`,
      ...(tests?.length ? { tests } : {}),
    };
  };
}

export const SWEBENCH_MARK = {
  start: ">>>>> Start Test Output",
  end: ">>>>> End Test Output",
  exit: />>>>> Test Exit Code:\s*(-?\d+)/,
} as const;

/** The text between the lines that hold SWE-bench's start and end markers (`+ : '>>>>> …'` under set -x). */
export function swebenchSection(output: string): { text: string; exit?: number } | undefined {
  const lines = output.split("\n");
  const s = lines.findIndex((l) => l.includes(SWEBENCH_MARK.start));
  if (s < 0) return undefined;
  const e = lines.findIndex((l, i) => i > s && l.includes(SWEBENCH_MARK.end));
  if (e < 0) return undefined;
  const code = SWEBENCH_MARK.exit.exec(lines.slice(e).join("\n"));
  return { text: lines.slice(s + 1, e).join("\n"), ...(code ? { exit: Number(code[1]) } : {}) };
}

function safeParse(parser: string, text: string): TestResult[] {
  try {
    return getParser(parser)(text);
  } catch {
    return [];
  }
}

/** The registry parser that reads the most tests from a log section, when any reads one. */
export function detectParser(text: string): string | undefined {
  let best: { name: string; n: number } | undefined;
  for (const name of parserNames()) {
    const n = safeParse(name, text).length;
    if (n > (best?.n ?? 0)) best = { name, n };
  }
  return best?.name;
}

/** Judge by SWE-bench's log: every FAIL_TO_PASS and PASS_TO_PASS test must pass (a missing one fails). */
export function logJudge(o: { parser: string; FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] }): Judge {
  const listed = [...o.FAIL_TO_PASS, ...o.PASS_TO_PASS];
  return (raw, timeoutMs) => {
    const cut = cutShort(raw, timeoutMs, false);
    if (cut) return { passed: false, inconclusive: cut, detail: cut };
    const section = swebenchSection(raw.output);
    if (!section) return { passed: false, detail: "its output has no SWE-bench test section" };
    const tests = safeParse(o.parser, section.text);
    const status = new Map(tests.map((t) => [t.name, t.status]));
    const failing = listed.filter((t) => status.get(t) !== "PASSED");
    if (section.exit !== undefined && section.exit !== 0 && !failing.length)
      return { passed: false, detail: `its log records test exit code ${section.exit}`, tests };
    return failing.length
      ? {
          passed: false,
          detail: `${failing.length} of ${listed.length} listed tests fail or are missing in its log (${failing.slice(0, 3).join(", ")}${failing.length > 3 ? ", …" : ""})`,
          tests,
        }
      : { passed: true, detail: `all ${listed.length} listed tests pass in its log`, tests };
  };
}

/** The judge the probes use before any baseline: ours (exit code, nonce markers required). */
export const OUR_JUDGE: Judge = exitJudge({ markers: true });
