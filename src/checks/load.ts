import { gradeEvaluation } from "../harness/grade.ts";
import { type OutputParser, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { CheckVerdict } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { probeRun } from "./probes.ts";

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

/**
 * The load probe: the resolved state once more, in a container held to a CPU quota, graded exactly as an
 * evaluation of the gold patch is. Tests with wall-clock budgets (ReDoS guards, "finishes within 100 ms",
 * racy timeouts) pass N times on a quiet machine and then fail when the reward is computed on a loaded
 * one; such an instance would punish correct patches, so it is rejected (`timing_dependent`).
 * A run cut short by the engine is tried once more; a run that exceeds the time limit under the quota says
 * the suite is slow, not that it is timing-dependent, and passes with that note.
 */
export async function loadProbe(
  task: { patch: string; test_patch: string },
  lists: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] },
  o: LoadProbeOptions,
): Promise<CheckVerdict> {
  const verdict = (passed: boolean, reasons: string[]): CheckVerdict => ({
    check: "load-probe",
    kind: "dynamic",
    passed,
    reasons,
  });
  const run = () =>
    runStateRaw(o.sandbox, {
      image: o.image,
      patch: task.patch,
      testPatch: task.test_patch,
      evaluationScript: o.evaluationScript,
      timeoutMs: o.timeoutMs,
      limits: { cpus: o.cpus },
    });
  const { raw, inconclusive: why } = await probeRun(run, o.timeoutMs, { retryTimeout: false });
  const quota = `${o.cpus} CPU`;
  if (raw.timedOut)
    return verdict(true, [
      `inconclusive: timed out after ${Math.round(o.timeoutMs / 1000)}s under a ${quota} quota (a slow suite, not shown timing-dependent)`,
    ]);
  if (why) return verdict(true, [`inconclusive twice under a ${quota} quota: ${why}`]);
  const report = gradeEvaluation(lists, toStateRun("resolved", raw, o.parse));
  const secs = (raw.durationMs / 1000).toFixed(1);
  if (report.resolved) return verdict(true, [`gold resolves under a ${quota} quota (${secs}s)`]);
  const failing = [...report.tests_status.FAIL_TO_PASS.failure, ...report.tests_status.PASS_TO_PASS.failure];
  return verdict(false, [
    `the gold patch does not resolve under a ${quota} quota (${secs}s): ${report.detail}` +
      (failing.length
        ? `; failing: ${failing.slice(0, 8).join(", ")}${failing.length > 8 ? ", …" : ""}`
        : ""),
  ]);
}
