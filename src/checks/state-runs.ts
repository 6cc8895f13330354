/**
 * The validate gate's state runs: the runs each state still needs to reach N, all asked for at once and
 * run as the gate's lanes allow (state runs before probes), kept in the order a sequential run makes them
 * (buggy runs, then resolved). A run that rejects the instance (a buggy run that passes, a resolved run
 * that fails) ends the others at once. With more than one lane, a resolved run that fails or a run the
 * machine cut short (timeout, engine exits, no test output) beside other containers first ends the others
 * and is run once more alone; only what it does alone counts, as in a sequential run, and the stopped runs
 * are made again: parallel runs that exhaust memory or processes slow the instance down, not reject it.
 */
import { exitVerdict } from "../harness/grade.ts";
import { runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { StateRun } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { inconclusive } from "./probes.ts";
import type { CheckOutcome, Evidence, GateContext } from "./types.ts";

type State = "buggy" | "resolved";

/** The run rejects the instance: a buggy run that exits 0, a resolved run that does not. */
export function rejects(run: StateRun): boolean {
  const passes = run.exit_code === 0 && !run.timed_out;
  return run.state === "buggy" ? passes : !passes;
}

interface Round {
  /** A run that rejects the instance. */
  rejected?: boolean;
  /** A run to make again alone (index into the wanted runs). */
  suspect?: number;
}

export async function stateRuns(e: Evidence, c: GateContext): Promise<CheckOutcome> {
  const n = c.runsPerState ?? 3;
  const parse = c.parserFor(e.parser);
  const parallel = (c.lanes ?? 1) > 1 && c.lane !== undefined;
  const want: State[] = (["buggy", "resolved"] as const).flatMap((s) =>
    Array<State>(Math.max(0, n - e.runs.filter((r) => r.state === s).length)).fill(s),
  );
  const runs: (StateRun | undefined)[] = want.map(() => undefined);
  const once = async (i: number, sb: Sandbox, signal?: AbortSignal) => {
    const raw = await runStateRaw(sb, {
      image: e.image!,
      patch: want[i] === "resolved" ? e.task.patch : undefined,
      testPatch: e.task.test_patch,
      evaluationScript: e.evaluationScript,
      timeoutMs: c.testTimeoutMs,
      signal,
    });
    return { raw, run: toStateRun(want[i]!, raw, parse) };
  };
  /** Every run still missing, side by side; stops at a run that rejects or one to make again alone. */
  const round = async (): Promise<Round> => {
    const stop = new AbortController();
    const signal = c.signal ? AbortSignal.any([stop.signal, c.signal]) : stop.signal;
    const sb = c.lane?.({ priority: 0, stop: signal }) ?? c.sandbox!;
    const r: Round = {};
    let error: unknown;
    const missing = want.flatMap((_, i) => (runs[i] ? [] : [i]));
    await Promise.all(
      missing.map(async (i) => {
        try {
          const { raw, run } = await once(i, sb, signal);
          if (
            parallel &&
            (inconclusive(raw, c.testTimeoutMs) || (run.state === "resolved" && rejects(run)))
          ) {
            r.suspect ??= i;
          } else {
            runs[i] = run;
            if (rejects(run)) r.rejected = true;
          }
          if (r.rejected || r.suspect !== undefined) stop.abort();
        } catch (err) {
          if (signal.aborted) return;
          error ??= err;
          stop.abort();
        }
      }),
    );
    if (error) throw error;
    if (c.signal?.aborted) throw new Error("aborted");
    return r;
  };
  for (;;) {
    const r = await round();
    if (r.rejected || r.suspect === undefined) break;
    const alone = await once(r.suspect, c.lane!({ exclusive: true, priority: 0 }), c.signal);
    runs[r.suspect] = alone.run;
    if (rejects(alone.run)) break;
  }
  e.runs.push(...runs.filter((r): r is StateRun => r !== undefined));
  if (runs.every((r) => r !== undefined)) return {};
  const v = exitVerdict(
    e.runs.filter((r) => r.state === "buggy"),
    e.runs.filter((r) => r.state === "resolved"),
  );
  if (!v) throw new Error("state runs stopped without a rejecting run");
  return { failure: { reason: v.verdict, detail: `${v.detail}; the remaining runs were stopped` } };
}
