/** The types of the checks registry (src/checks/gate.ts): evidence, context, outcomes, a check. */

import type { OutputParser } from "../harness/run-state.ts";
import type { Model, Usage } from "../model/model.ts";
import type {
  BaseStateInfo,
  CheckVerdict,
  ReasonCode,
  StateRun,
  Task,
  TestCategories,
} from "../records/index.ts";
import type { Limits, Sandbox } from "../sandbox/sandbox.ts";
import type { LaneOptions } from "./lanes.ts";
import type { Convention } from "./outcome.ts";

/** What the audit's baseline found (src/checks/baseline.ts): buggy fails and resolved passes, or not. */
export interface Baseline {
  ok: boolean;
  /** How the verifier reports: its exit code, or SWE-bench's log. */
  convention?: Convention;
  /** The log parser that reads its tests (ours, or detected from its output). */
  parser?: string;
  /** It prints our nonce markers. */
  markers: boolean;
  FAIL_TO_PASS: string[];
  PASS_TO_PASS: string[];
  /** What decided, or why it is broken. */
  reasons: string[];
}

/** What a gate knows of the verifier under test, growing as checks run. */
export interface Evidence {
  task: Pick<Task, "instance_id" | "patch" | "test_patch" | "code_files">;
  /** Test files the test patch leaves in place. */
  testFiles: string[];
  evaluationScript: string;
  /** Registry name of the parser reading the script's output. */
  parser: string;
  /** The image the verifier runs in (undefined until built, or when there is none: static checks only). */
  image?: string;
  /** The install script behind the image, when a model wrote it (the judge reads it). */
  installScript?: string;
  /** Repository files, for the judge. */
  files?: readonly string[];
  /** The script listing the tests without running them, where the runner can (the base state reads it). */
  listScript?: string;
  /** Runs made so far: buggy and resolved, and base when the base state was run. */
  runs: StateRun[];
  /** How the base state was learnt, once the base-state check ran. */
  baseState?: BaseStateInfo;
  /** The tests a listing at the base commit named (when the base state was listed, not run). */
  baseListed?: string[];
  /** FAIL_TO_PASS / PASS_TO_PASS / flaky, once graded; the categories they came from; load-flaky tests. */
  lists?: {
    FAIL_TO_PASS: string[];
    PASS_TO_PASS: string[];
    flaky: string[];
    categories?: TestCategories;
    load_flaky?: string[];
  };
  /** The audit's baseline, once run: probes after it judge runs the way it found the verifier reports. */
  baseline?: Baseline;
  /** Fix files whose revert alone the verifier still passes (inverse mutation): evidence for the audit. */
  unneeded?: { path: string; detail: string }[];
  /** owner/name of the repository, when known (fetching it is fetching the fix). */
  repo?: string;
  /** The task's title or the first line of its problem statement (the git probe writes it into a commit). */
  title?: string;
  /** Verdicts made earlier on this very image and script (the agent's probes): a passing one is not redone. */
  prior: CheckVerdict[];
  /** Model tokens and money the checks spent (the judge). */
  usage: Usage & { usd: number };
}

export interface GateContext {
  sandbox?: Sandbox;
  parserFor: (name: string) => OutputParser;
  /** The judge's model; without one the judge is skipped. */
  model?: Model;
  /** Runs per state that `state-runs` (and `base-state`, when it runs the base) tops the evidence up to (default 3). */
  runsPerState?: number;
  testTimeoutMs: number;
  /** CPU quota of the load probe (0: the probe is off). */
  loadProbeCpus?: number;
  /** Makes the image when a check first needs one and there is none yet (the agent builds its submission). */
  provideImage?: () => Promise<
    { ok: true; image: string } | { ok: false; reason: ReasonCode; detail: string }
  >;
  /**
   * Container lanes of the gate (default 1: one container at a time, in list order). With more, the runs of
   * a state, the states and the concurrent probes run side by side; results are merged in list order.
   */
  lanes?: number;
  /** Set by runGate for the check it runs: the gate's sandbox behind other lane options (state-runs runs
   * a suspect run again alone with it). */
  lane?: (o: LaneOptions) => Sandbox;
  /** Limits of every probe container (the audit bounds processes and memory). */
  limits?: Limits;
  /** Run every check even after one failed (an audit reports them all); the first failure is still named. */
  keepGoing?: boolean;
  signal?: AbortSignal;
}

export type Need = "image" | "runs" | "lists" | "model";

export interface CheckFailure {
  reason: ReasonCode;
  detail: string;
  /** The task's own fault (a patch that does not apply): no other attempt can help. */
  fatal?: boolean;
  /** The state run that failed, for feedback and repairs. */
  state?: "resolved" | "buggy";
  run?: StateRun;
  /** The failing run's whole output (recipes read it to revise their plan). */
  output?: string;
  /** The image a check needed could not be made (`provideImage` failed): nothing was checked. */
  provision?: boolean;
}

export interface CheckOutcome {
  verdicts?: CheckVerdict[];
  failure?: CheckFailure;
}

export interface Check {
  name: string;
  kind: CheckVerdict["kind"] | "state";
  needs: readonly Need[];
  /** The rejection when it fails (a check may name a more precise one in its failure). */
  reason: ReasonCode;
  /** Costs container runs of its own beyond the state runs (turned off by --skip-probes). */
  probe: boolean;
  /**
   * Reads only the task, the image and the script, and writes nothing later checks read: the gate may
   * start it early, beside the state runs, when it has more than one lane.
   */
  concurrent?: boolean;
  /** Runs alone, holding every lane (a CPU-quota probe means nothing beside other containers). */
  exclusive?: boolean;
  /**
   * The part of run that needs only the image: with more than one lane the gate starts it beside the
   * state runs, on a sandbox whose containers hold no lane, and hands its promise to run.
   */
  head?: (e: Evidence, c: GateContext) => Promise<unknown>;
  run(e: Evidence, c: GateContext, head?: Promise<unknown>): Promise<CheckOutcome>;
}
