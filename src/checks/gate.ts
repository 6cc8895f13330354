/**
 * The one function that runs a gate: a list of check names from the registry (src/checks/registry.ts) in
 * order (static checks → state runs → probes), the same wherever it runs (the builder's quick check, the
 * agent's self-verification, validation, check-verifier). The gate stops at the first failure. What a
 * check produces (runs, graded lists, verdicts, model usage) is added to the evidence that later checks read.
 */

import { setMaxListeners } from "node:events";
import type { CheckVerdict } from "../records/index.ts";
import { Lanes } from "../util/pool.ts";
import { type LaneOptions, laneSandbox } from "./lanes.ts";
import { CHECKS, type CheckName } from "./registry.ts";
import type { Check, CheckFailure, CheckOutcome, Evidence, GateContext, Need } from "./types.ts";

export type { CheckName } from "./registry.ts";
export type { Check, CheckFailure, CheckOutcome, Evidence, GateContext } from "./types.ts";

/** Validation of a built environment, whoever built it (the synth gate is this list too, less base-state). */
const VALIDATE = [
  "static",
  "state-runs",
  "base-state",
  "grade",
  "exit-code-cross-check",
  "leak-probe",
  "comment-probe",
  "no-tests-probe",
  "load-probe",
] as const satisfies readonly CheckName[];

/** The gates, each a list of check names run in order. */
export const GATES = {
  /** The builder's quick check of a freshly built image: resolved passes, buggy fails, one run each. */
  build: ["quick-check"],
  /** The building agent's self-verification of a submission (its image is built when first needed). */
  agent: ["static", "quick-check", "comment-probe", "no-tests-probe", "judge"],
  /** Validation of a built environment, whoever built it. */
  validate: VALIDATE,
  /**
   * A synthetic bug (src/synth/): validation's list, then inverse mutation (each changed file undone alone
   * makes a failing test pass; the gold patch resolves in the bug's own image).
   */
  // (no base state: a synthetic bug has no test patch, its base is the environment's own commit)
  synth: [...VALIDATE.filter((n) => n !== "base-state"), "synth-inverse-mutation"],
  /**
   * check-verifier: a verifier from any source. Static rules always; with an image the baseline, then the
   * behaviour probes (a broken verifier is not probed); the judge with a model.
   */
  audit: [
    "static",
    "baseline",
    "comment-probe",
    "no-tests-probe",
    "poison-probe",
    "stub-probe",
    "rewrite-probe",
    "inverse-mutation",
    "git-probe",
    "judge",
  ],
} as const satisfies Record<string, readonly CheckName[]>;

/** A gate's names without the checks an option turns off (probes off, the load probe at 0 CPUs). */
export function gate(
  names: readonly CheckName[],
  o: { probes?: boolean; loadProbeCpus?: number; judge?: boolean } = {},
): CheckName[] {
  return names.filter((n) => {
    if (o.probes === false && CHECKS[n].probe) return false;
    if (n === "load-probe" && !(o.loadProbeCpus ?? 0)) return false;
    if (n === "judge" && o.judge === false) return false;
    return true;
  });
}

export interface GateResult {
  verdicts: CheckVerdict[];
  /** Checks that could not run, and why (no image, no model). */
  skipped: string[];
  failure?: CheckFailure & { check: CheckName };
}

/** Why a need cannot be met, else undefined; makes the image through `provideImage` when asked to. */
async function unmet(
  needs: readonly Need[],
  e: Evidence,
  c: GateContext,
): Promise<string | CheckFailure | undefined> {
  for (const need of needs) {
    if (need === "model" && !c.model) return "no model (--model or SWEU_MODEL)";
    if (need === "lists" && !e.lists) return "no graded lists";
    if (
      need === "runs" &&
      !(e.runs.some((r) => r.state === "buggy") && e.runs.some((r) => r.state === "resolved"))
    )
      return "no runs of both states";
    if (need !== "image" || e.image) continue;
    if (!c.provideImage || !c.sandbox) return "no image (--image)";
    const made = await c.provideImage();
    if (!made.ok) return { reason: made.reason, detail: made.detail, provision: true };
    e.image = made.image;
  }
  return undefined;
}

/** The context a check runs with: the gate's sandbox behind its lanes, stopped with `stop`. */
function checkContext(
  check: Check,
  c: GateContext,
  lanes: Lanes,
  stop: AbortSignal,
  alone = false,
): GateContext {
  if (!c.sandbox) return c;
  const sb = c.sandbox;
  const lane = (o: LaneOptions) =>
    laneSandbox(sb, lanes, { ...o, stop: o.stop ? AbortSignal.any([stop, o.stop]) : stop });
  return {
    ...c,
    sandbox: lane({ priority: check.probe ? 1 : 0, exclusive: alone || check.exclusive }),
    lane,
  };
}

/**
 * Run `names` on `e`; stops at the first failing check (unless `keepGoing`). With one lane (the default)
 * the checks run one after another in list order. With more, a check that starts containers also starts the
 * later concurrent checks beside it (probes that read only the task and the image); outcomes are still taken
 * in list order, so verdicts and the first failure are what a sequential run gives: a failure ends the checks
 * after it at once (their containers removed, their verdicts dropped), and a probe that fails beside others
 * is run again alone before it counts.
 */
export async function runGate(names: readonly CheckName[], e: Evidence, c: GateContext): Promise<GateResult> {
  const verdicts: CheckVerdict[] = [];
  const skipped: string[] = [];
  let first: GateResult["failure"];
  const lanes = new Lanes(c.lanes ?? 1);
  const stop = new AbortController();
  // Every check's sandbox listens to it (a few per check); not a leak.
  setMaxListeners(0, stop.signal);
  const passedBefore = (name: CheckName) => {
    const prior = e.prior.filter((v) => v.check === name);
    return prior.length > 0 && prior.every((v) => v.passed);
  };
  const early = new Map<CheckName, Promise<CheckOutcome>>();
  const heads = new Map<CheckName, Promise<unknown>>();
  const startBeside = (from: number) => {
    if (lanes.size < 2 || !e.image || !c.sandbox) return;
    for (const name of names.slice(from)) {
      const check: Check = CHECKS[name];
      if (check.head && !heads.has(name) && !passedBefore(name)) {
        const ctx = checkContext(check, c, lanes, stop.signal);
        const h = check.head(e, { ...ctx, sandbox: ctx.lane!({ priority: 1, weight: 0 }) });
        h.catch(() => undefined);
        heads.set(name, h);
      }
      if (!check.concurrent || early.has(name) || passedBefore(name)) continue;
      if (check.needs.some((n) => n !== "image")) continue;
      const p = check.run(e, checkContext(check, c, lanes, stop.signal));
      p.catch(() => undefined);
      early.set(name, p);
    }
  };
  try {
    for (const [i, name] of names.entries()) {
      if (c.signal?.aborted) throw new Error("aborted");
      if (passedBefore(name)) {
        verdicts.push(...e.prior.filter((v) => v.check === name));
        continue;
      }
      const check: Check = CHECKS[name];
      let out = await early.get(name);
      if (!out) {
        // The audit's probes presuppose a verifier that fails buggy and passes resolved.
        const broken = e.baseline && !e.baseline.ok && check.probe ? "the baseline failed" : undefined;
        const why = broken ?? (await unmet(check.needs, e, c));
        if (typeof why === "string") {
          skipped.push(`${name}: ${why}`);
          continue;
        }
        const run = why
          ? undefined
          : check.run(e, checkContext(check, c, lanes, stop.signal), heads.get(name));
        if (run && check.needs.includes("image")) startBeside(i + 1);
        out = run ? await run : { failure: why as CheckFailure };
      }
      if (out.failure && check.probe && lanes.size > 1 && !check.exclusive)
        out = await check.run(e, checkContext(check, c, lanes, stop.signal, true));
      verdicts.push(...(out.verdicts ?? []));
      if (!out.failure) continue;
      first ??= { check: name, ...out.failure };
      if (!c.keepGoing) break;
    }
  } finally {
    stop.abort();
  }
  const grouped = groupSkipped(skipped);
  return first ? { verdicts, skipped: grouped, failure: first } : { verdicts, skipped: grouped };
}

/** "a: why", "b: why" → "a, b: why" (checks skipped for one reason are said once). */
function groupSkipped(skipped: string[]): string[] {
  const byWhy = new Map<string, string[]>();
  for (const s of skipped) {
    const i = s.indexOf(": ");
    const why = s.slice(i + 2);
    byWhy.set(why, [...(byWhy.get(why) ?? []), s.slice(0, i)]);
  }
  return [...byWhy].map(([why, names]) => `${names.join(", ")}: ${why}`);
}

/** Fresh evidence for a verifier. */
export function evidence(x: Omit<Evidence, "runs" | "prior" | "usage"> & Partial<Evidence>): Evidence {
  return { runs: [], prior: [], usage: { prompt_tokens: 0, completion_tokens: 0, usd: 0 }, ...x };
}
