import { type CheckName, evidence, GATES, gate, runGate } from "../checks/gate.ts";
import { LOAD_PROBE_CPUS } from "../checks/load.ts";
import { type OutputParser, presentTestFiles } from "../harness/run-state.ts";
import type { Model } from "../model/model.ts";
import type { Built, CheckVerdict, Instance, ReasonCode, StateRun } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { warmSandbox } from "../sandbox/warm.ts";
import { defaultLanes } from "../util/pool.ts";
import { assembleInstance } from "./instance.ts";

export interface ValidateOptions {
  sandbox: Sandbox;
  parserFor: (name: string) => OutputParser;
  /** Runs per state, counting the builder's quick check (default 3). */
  runsPerState?: number;
  testTimeoutMs?: number;
  /** Skip the probes that cost container runs of their own (faster, weaker). */
  skipProbes?: boolean;
  /** CPU quota of the load probe (default LOAD_PROBE_CPUS); 0 turns it off. */
  loadProbeCpus?: number;
  /** Look for the fix in the image outside the tracked files (default: as the other probes). */
  leakProbe?: boolean;
  /** The LLM judge of the verifier, when a model is configured for it. */
  judge?: Model;
  /**
   * Containers of this instance at once (default: SWEU_STATE_LANES, else the machine's cores): the runs of
   * both states and the probes side by side, merged in the gate's order (1 = one after another).
   */
  lanes?: number;
  signal?: AbortSignal;
  /** The gate to run (default GATES.validate; synthetic bugs run GATES.synth). */
  gate?: readonly CheckName[];
  /** Test files the no-tests probe deletes (default: those the test patch leaves in place). */
  testFiles?: string[];
}

export type ValidationOutcome =
  | { ok: true; instance: Instance }
  | { ok: false; reason: ReasonCode; detail: string; runs: StateRun[]; checks: CheckVerdict[] };

/**
 * Validation (DESIGN §3): the validate gate (src/checks/gate.ts) on a built environment — static checks of
 * evaluation.sh, N runs per state in fresh containers of the image built from its Dockerfile, the base state
 * (not needed, listed or run: src/checks/base-state.ts), grading into Multi-SWE-bench's categories and
 * FAIL_TO_PASS / PASS_TO_PASS / flaky, the exit-code cross-check, then the probes (leak, comment, no-tests,
 * load) and, with a model, the LLM judge — and the Instance assembled from what it found.
 */
export async function validate(built: Built, o: ValidateOptions): Promise<ValidationOutcome> {
  const started = Date.now();
  const n = o.runsPerState ?? 3;
  const e = evidence({
    task: built.task,
    testFiles: o.testFiles ?? presentTestFiles(built.task),
    evaluationScript: built.evaluation_script,
    parser: built.parser,
    image: built.image,
    installScript: built.install_script,
    listScript: built.list_script,
    runs: [...built.runs],
    prior: built.checks,
  });
  const names = gate(o.gate ?? GATES.validate, {
    probes: !o.skipProbes,
    loadProbeCpus: o.skipProbes ? 0 : (o.loadProbeCpus ?? LOAD_PROBE_CPUS),
  }).filter((c) => c !== "leak-probe" || (o.leakProbe ?? !o.skipProbes));
  // Removals in the background: a run's lane passes on when its result is read, not when the engine has
  // removed its container (settled before validation returns, so none is left behind).
  const sandbox = warmSandbox(o.sandbox);
  const g = await runGate(o.judge ? [...names, "judge"] : names, e, {
    sandbox,
    parserFor: o.parserFor,
    model: o.judge,
    runsPerState: n,
    testTimeoutMs: o.testTimeoutMs ?? 15 * 60_000,
    loadProbeCpus: o.loadProbeCpus ?? LOAD_PROBE_CPUS,
    lanes: o.lanes ?? defaultLanes(),
    signal: o.signal,
  }).finally(() => sandbox.settle());
  if (g.failure)
    return {
      ok: false,
      reason: g.failure.reason,
      detail: g.failure.detail,
      runs: e.runs,
      checks: g.verdicts,
    };
  const instance = assembleInstance(built, {
    runsPerState: n,
    runs: e.runs,
    lists: e.lists!,
    baseState: e.baseState,
    verdicts: g.verdicts,
    usage: e.usage,
    validateMs: Date.now() - started,
  });
  return { ok: true, instance };
}
