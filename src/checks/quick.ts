/**
 * The quick check of a freshly built image: the resolved state once (it must pass), then the buggy state
 * once (it must fail), each in a fresh container. What builders read before they spend N validation runs.
 */

import { type RawStateRun, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { ReasonCode, StateRun } from "../records/index.ts";
import { tail } from "../util/text.ts";
import type { CheckOutcome, Evidence, GateContext } from "./types.ts";

const NETWORK_ERRORS =
  /(getaddrinfo (ENOTFOUND|EAI_AGAIN)|Temporary failure in name resolution|Network is unreachable|Could not resolve host|Failed to establish a new connection|ECONNREFUSED .*:(80|443)\b)/;

/** Why a resolved-state run is not a pass, or undefined when it is one. */
export function judgeResolved(raw: RawStateRun, run: StateRun): ReasonCode | undefined {
  if (raw.apply === "patch_failed") return "patch_apply_failed";
  if (raw.apply === "test_patch_failed") return "test_patch_apply_failed";
  if (raw.timedOut) return "tests_timeout";
  if (raw.exitCode !== 0) return NETWORK_ERRORS.test(raw.output) ? "needs_network" : "resolved_fails";
  if (!run.parsed) return "unparsed_output";
  return undefined;
}

const FATAL: ReadonlySet<ReasonCode> = new Set(["patch_apply_failed", "test_patch_apply_failed"]);

export async function quickCheck(e: Evidence, c: GateContext): Promise<CheckOutcome> {
  const parse = c.parserFor(e.parser);
  const runState = async (state: "buggy" | "resolved") => {
    const raw = await runStateRaw(c.sandbox!, {
      image: e.image!,
      patch: state === "resolved" ? e.task.patch : undefined,
      testPatch: e.task.test_patch,
      evaluationScript: e.evaluationScript,
      timeoutMs: c.testTimeoutMs,
    });
    return { raw, run: toStateRun(state, raw, parse) };
  };
  const resolved = await runState("resolved");
  const verdict = judgeResolved(resolved.raw, resolved.run);
  if (verdict) {
    const applied = resolved.raw.apply === "applied";
    return {
      failure: {
        reason: verdict,
        detail: tail(applied ? resolved.raw.output : resolved.raw.applyLog, 1500),
        fatal: FATAL.has(verdict),
        state: "resolved",
        run: resolved.run,
        output: resolved.raw.output,
      },
    };
  }
  const buggy = await runState("buggy");
  if (buggy.raw.apply !== "applied")
    return {
      failure: {
        reason: "test_patch_apply_failed",
        detail: tail(buggy.raw.applyLog, 1500),
        fatal: true,
        state: "buggy",
        run: buggy.run,
      },
    };
  if (buggy.raw.exitCode === 0 && !buggy.raw.timedOut)
    return {
      failure: {
        reason: "buggy_passes",
        detail: "the tests pass without the fix",
        state: "buggy",
        run: buggy.run,
        output: buggy.raw.output,
      },
    };
  e.runs.push(buggy.run, resolved.run);
  return {};
}
