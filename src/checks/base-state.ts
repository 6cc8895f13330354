/**
 * The base state (the base commit as it is, no test patch): what tells the tests that passed before the PR
 * from the tests the PR added, also when the test patch alone breaks the build (compiled languages: a test
 * file that uses the new API takes its whole package with it, and every test of that package is absent from
 * the buggy runs).
 *
 * It is learnt as cheaply as the evidence allows:
 * - not needed (0 runs): every test that passes after the fix also ran with the test patch alone, so the
 *   buggy runs already say what each one did before the fix;
 * - listed (1 run): the runner lists its tests without running them (src/harness/list.ts): a test absent
 *   from the buggy runs that the listing names at the base commit, and whose code the test patch does not
 *   touch, is the same test as before the PR; it passes after the fix, so it is PASS_TO_PASS. (A test that
 *   failed at the base commit and that the fix mends without any test change would land there too: it is
 *   graded either way, only its list differs);
 * - runs (N runs, as the other states): where the runner cannot list, the base state is run and a test
 *   counts as passing before the PR when it passed in every base run.
 */
import { type BaseKnowledge, grade } from "../harness/grade.ts";
import { listerFor } from "../harness/list.ts";
import { extractSections } from "../harness/output.ts";
import { runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { BaseStateInfo } from "../records/index.ts";
import type { CheckOutcome, Evidence, GateContext } from "./types.ts";

/** The tests absent from every buggy run that pass in every resolved run (Multi-SWE-bench's n2p). */
function absentWithTestPatch(e: Evidence): string[] {
  return grade(e.runs.filter((r) => r.state !== "base")).categories.n2p;
}

export async function baseState(e: Evidence, c: GateContext): Promise<CheckOutcome> {
  const n = c.runsPerState ?? 3;
  const absent = absentWithTestPatch(e);
  if (!absent.length) {
    e.baseState = {
      mode: "not_needed",
      runs: 0,
      detail: "every test that passes with the fix also ran with the test patch alone",
    };
    return {};
  }
  const listed = e.listScript ? await listAtBase(e, c) : undefined;
  if (listed) {
    e.baseListed = listed;
    const known = new Set(listed);
    const lister = listerFor(e.parser)!;
    const there = absent.filter((t) => lister.covers(known, t)).length;
    e.baseState = {
      mode: "listed",
      runs: 1,
      detail: `${there} of the ${absent.length} tests absent with the test patch alone are listed at the base commit (${listed.length} listed)`,
    };
    return {};
  }
  const before = e.runs.filter((r) => r.state === "base").length;
  while (e.runs.filter((r) => r.state === "base").length < n) {
    const raw = await runStateRaw(c.sandbox!, {
      image: e.image!,
      testPatch: "",
      evaluationScript: e.evaluationScript,
      timeoutMs: c.testTimeoutMs,
    });
    e.runs.push(toStateRun("base", raw, c.parserFor(e.parser)));
  }
  e.baseState = {
    mode: "runs",
    runs: n - before,
    detail: `${absent.length} tests absent with the test patch alone; ${e.listScript ? "the listing failed, so " : "the runner cannot list tests, so "}the base state ran ${n} times`,
  };
  return {};
}

/**
 * One container at the base commit running the listing script; the names it printed, or undefined when it
 * printed no section at all (the script could not run). A listing that names nothing is an answer: the
 * tests are not there (a new test file, a new package).
 */
async function listAtBase(e: Evidence, c: GateContext): Promise<string[] | undefined> {
  const lister = listerFor(e.parser);
  if (!lister) return undefined;
  const raw = await runStateRaw(c.sandbox!, {
    image: e.image!,
    testPatch: "",
    evaluationScript: e.listScript!,
    timeoutMs: c.testTimeoutMs,
  });
  if (raw.apply !== "applied" || raw.timedOut) return undefined;
  const out = extractSections(raw.output, raw.nonce).testOutput;
  return out === undefined ? undefined : lister.parse(out);
}

/** What grading knows of the base state from the evidence: the listing, else the base runs, else nothing. */
export function baseKnowledge(e: Evidence): BaseKnowledge | undefined {
  if (!e.baseListed) return undefined; // grade() reads base runs from the runs themselves
  const known = new Set(e.baseListed);
  const lister = listerFor(e.parser);
  return { passes: (name) => (lister ? lister.covers(known, name) : known.has(name)) };
}

export type { BaseStateInfo };
