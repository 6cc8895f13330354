import { gradeEvaluation } from "../harness/grade.ts";
import { type OutputParser, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { CheckVerdict } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { type ProbeRun, probeRun } from "./probes.ts";

/** Default CPU quota of the load probe: a quarter of one CPU, about what a test sees on a busy cluster node. */
export const LOAD_PROBE_CPUS = 0.25;

export interface LoadProbeOptions {
  sandbox: Sandbox;
  image: string;
  evaluationScript: string;
  parse: OutputParser;
  /** CPUs the container may use (e.g. 0.25). */
  cpus: number;
  timeoutMs: number;
}

/** The load probe's verdict, and the tests it found failing only under the quota. */
export interface LoadProbeResult {
  verdict: CheckVerdict;
  /** Tests that failed (or went missing) under the quota: they leave the lists as load-flaky. */
  loadFlaky: string[];
  /** The lists without them. */
  lists: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] };
}

/**
 * The load probe: the resolved state once more, in a container held to a CPU quota, graded exactly as an
 * evaluation of the gold patch is. Tests with wall-clock budgets (ReDoS guards, "finishes within 100 ms",
 * racy timeouts, output whose order follows thread scheduling) pass N times on a quiet machine and then fail
 * when the reward is computed on a loaded one. Such a test is flaky under load: it leaves FAIL_TO_PASS and
 * PASS_TO_PASS, as other flaky tests do, and is recorded as load-flaky (an evaluation whose only failing
 * tests are load-flaky ones still resolves, src/harness/grade.ts). The instance is rejected
 * (`timing_dependent`) only when no FAIL_TO_PASS test is left, or when the run under the quota fails without
 * naming a failing test.
 * A run cut short by the engine is tried once more; a run that exceeds the time limit under the quota says
 * the suite is slow, not that it is timing-dependent, and passes with that note.
 */
export async function loadProbe(
  task: { patch: string; test_patch: string },
  lists: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] },
  o: LoadProbeOptions,
): Promise<LoadProbeResult> {
  return judgeLoad(lists, await loadRun(task, o), o);
}

/** The run under the quota, once more when the engine cut it short: what judgeLoad grades. */
export type LoadRun = Pick<ProbeRun, "raw" | "inconclusive">;

/** The load probe's container run alone (it needs no lists: the gate may start it beside the state runs). */
export async function loadRun(
  task: { patch: string; test_patch: string },
  o: LoadProbeOptions,
): Promise<LoadRun> {
  const run = () =>
    runStateRaw(o.sandbox, {
      image: o.image,
      patch: task.patch,
      testPatch: task.test_patch,
      evaluationScript: o.evaluationScript,
      timeoutMs: o.timeoutMs,
      limits: { cpus: o.cpus },
    });
  return probeRun(run, o.timeoutMs, { retryTimeout: false });
}

/** The load probe's verdict on a run under the quota (see loadProbe). */
export function judgeLoad(
  lists: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] },
  { raw, inconclusive: why }: LoadRun,
  o: Pick<LoadProbeOptions, "cpus" | "timeoutMs" | "parse">,
): LoadProbeResult {
  const unchanged = (passed: boolean, reasons: string[]): LoadProbeResult => ({
    verdict: { check: "load-probe", kind: "dynamic", passed, reasons },
    loadFlaky: [],
    lists,
  });
  const quota = `${o.cpus} CPU`;
  if (raw.timedOut)
    return unchanged(true, [
      `inconclusive: timed out after ${Math.round(o.timeoutMs / 1000)}s under a ${quota} quota (a slow suite, not shown timing-dependent)`,
    ]);
  if (why) return unchanged(true, [`inconclusive twice under a ${quota} quota: ${why}`]);
  const state = toStateRun("resolved", raw, o.parse);
  const report = gradeEvaluation(lists, state);
  const secs = (raw.durationMs / 1000).toFixed(1);
  if (report.resolved) return unchanged(true, [`gold resolves under a ${quota} quota (${secs}s)`]);
  const listed = [...report.tests_status.FAIL_TO_PASS.failure, ...report.tests_status.PASS_TO_PASS.failure];
  const inLists = new Set([...lists.FAIL_TO_PASS, ...lists.PASS_TO_PASS]);
  const others = state.tests
    .filter((t) => (t.status === "FAILED" || t.status === "ERROR") && !inLists.has(t.name))
    .map((t) => t.name);
  const loadFlaky = [...new Set([...listed, ...others])].sort();
  const what = `the gold patch does not resolve under a ${quota} quota (${secs}s): ${report.detail}`;
  if (!loadFlaky.length || !state.parsed)
    return unchanged(false, [`${what}; no failing test is named, so the instance cannot be kept`]);
  const drop = new Set(loadFlaky);
  const kept = {
    FAIL_TO_PASS: lists.FAIL_TO_PASS.filter((t) => !drop.has(t)),
    PASS_TO_PASS: lists.PASS_TO_PASS.filter((t) => !drop.has(t)),
  };
  const names = `${loadFlaky.slice(0, 8).join(", ")}${loadFlaky.length > 8 ? ", …" : ""}`;
  const passed = kept.FAIL_TO_PASS.length > 0;
  const outcome = passed
    ? `${loadFlaky.length} test(s) fail only under load and leave the lists as load-flaky: ${names}; ${kept.FAIL_TO_PASS.length} fail-to-pass left`
    : `every fail-to-pass test fails under load: ${names}`;
  return {
    verdict: { check: "load-probe", kind: "dynamic", passed, reasons: [`${what}; ${outcome}`] },
    loadFlaky,
    lists: kept,
  };
}
