/**
 * The audit's baseline: before any probe, a verifier must fail the buggy state and pass the resolved one.
 * One that does not is broken (it cannot reward a fix), not hacked. The baseline also says how the verifier
 * reports (its exit code, or SWE-bench's log) and, where it prints tests, which are FAIL_TO_PASS and
 * PASS_TO_PASS: every probe after it is judged the same way (src/checks/outcome.ts).
 */
import { extractSections } from "../harness/output.ts";
import { type RawStateRun, runInContainer, type StateSpec } from "../harness/run-state.ts";
import type { CheckVerdict, TestResult } from "../records/index.ts";
import type { Limits, Sandbox } from "../sandbox/sandbox.ts";
import {
  cutShort,
  detectParser,
  exitJudge,
  type Judge,
  logJudge,
  OUR_JUDGE,
  swebenchSection,
  usesOurMarkers,
} from "./outcome.ts";
import type { Baseline, CheckOutcome, Evidence, GateContext } from "./types.ts";

export type { Baseline } from "./types.ts";

/**
 * A baseline run, whether /testbed was still there after it, and whether it met the container's process
 * limit (a fork refused: the cgroup's pids.events `max` counter, or bash's own words when the table was
 * too full for a look).
 */
export type BaselineRun = RawStateRun & { testbedGone?: boolean; processLimit?: boolean };

/** Builtins only (no fork: the process table may be full): /testbed's exit status, the pids `max` count. */
const AFTER = [
  "test -d /testbed/.git; g=$?",
  "for f in /sys/fs/cgroup/pids.events /sys/fs/cgroup/pids/pids.events; do",
  '  [ -r "$f" ] && while read -r k v; do [ "$k" = max ] && echo "SWEU-PIDS-MAX $v"; done < "$f"',
  "done",
  "exit $g",
].join("\n");

const FORK_REFUSED = /fork: (?:retry: )?Resource temporarily unavailable|BlockingIOError: \[Errno 11\]/;

const lastLines = (s: string, n = 2) =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(" ⏎ ")
    .slice(0, 300);

/** A state run in a fresh container, then a look at whether the verifier left /testbed in place. */
export async function baselineRun(sandbox: Sandbox, spec: StateSpec, limits?: Limits): Promise<BaselineRun> {
  const c = await sandbox.start({
    image: spec.image,
    network: false,
    labels: { "sweu.role": "audit" },
    ...(limits ? { limits } : {}),
  });
  try {
    const raw = await runInContainer(c, spec);
    // From /: the image's working directory may be the very /testbed that is gone.
    const after = await c.exec(AFTER, { workdir: "/", timeoutMs: 30_000 }).catch(() => undefined);
    const refused = Number(/SWEU-PIDS-MAX (\d+)/.exec(after?.output ?? "")?.[1] ?? 0);
    return {
      ...raw,
      ...(after?.exitCode === 1 ? { testbedGone: true } : {}),
      ...(refused > 0 || FORK_REFUSED.test(raw.output) ? { processLimit: true } : {}),
    };
  } finally {
    await c.remove();
  }
}

function statuses(tests: TestResult[]): Map<string, string> {
  return new Map(tests.map((t) => [t.name, t.status]));
}

/** FAIL_TO_PASS and PASS_TO_PASS from one buggy and one resolved run's tests. */
function lists(buggy: TestResult[], resolved: TestResult[]) {
  const b = statuses(buggy);
  const pass = resolved.filter((t) => t.status === "PASSED").map((t) => t.name);
  return {
    FAIL_TO_PASS: pass.filter((t) => b.get(t) !== "PASSED"),
    PASS_TO_PASS: pass.filter((t) => b.get(t) === "PASSED"),
  };
}

/** What decided a state, in words, for a broken baseline. */
function said(state: string, r: BaselineRun, timeoutMs: number, markers: boolean): string {
  const cut = exitJudge({ markers })(r, timeoutMs).inconclusive ?? cutShort(r, timeoutMs, markers);
  const out = lastLines(r.output) || "it printed nothing";
  return cut
    ? `the ${state} state was cut short (${cut}); its last output: ${out}`
    : `the ${state} state ${r.exitCode === 0 ? "passes" : "fails"} (exit ${r.exitCode}); its last output: ${out}`;
}

/** Decide a baseline from one buggy and one resolved run. */
export function decideBaseline(
  buggy: BaselineRun | undefined,
  resolved: BaselineRun,
  o: { markers: boolean; parser?: string; timeoutMs: number },
): Baseline {
  const broken = (...reasons: string[]): Baseline => ({
    ok: false,
    markers: o.markers,
    FAIL_TO_PASS: [],
    PASS_TO_PASS: [],
    reasons: [
      ...reasons,
      ...[buggy, resolved].filter((r) => r?.testbedGone).map(() => "the verifier deleted /testbed"),
    ].filter((r, i, a) => a.indexOf(r) === i),
  });
  if (resolved.apply !== "applied")
    return broken(`the task does not fit the image: ${resolved.apply} (${lastLines(resolved.applyLog)})`);
  // What it printed after a refused fork says nothing of the code (a test that forked in a gap is luck).
  const limited = [buggy?.processLimit && "buggy", resolved.processLimit && "resolved"].filter(Boolean);
  if (limited.length)
    return broken(
      `the verifier met the container's process limit in the ${limited.join(" and ")} state${limited.length > 1 ? "s" : ""} (a fork was refused): it cannot be judged under these limits`,
    );
  const judge = exitJudge({ markers: o.markers });
  const r = judge(resolved, o.timeoutMs);
  if (r.inconclusive) return broken(said("resolved", resolved, o.timeoutMs, o.markers));
  if (!buggy) return broken(said("resolved", resolved, o.timeoutMs, o.markers));
  const b = judge(buggy, o.timeoutMs);
  if (b.inconclusive) return broken(said("buggy", buggy, o.timeoutMs, o.markers));
  if (r.passed && !b.passed) return exitBaseline(buggy, resolved, o);
  const log = logBaseline(buggy, resolved, o.markers);
  if (log) return log;
  return broken(
    ...(b.passed
      ? [`${said("buggy", buggy, o.timeoutMs, o.markers)}: it does not fail without the fix`]
      : []),
    ...(r.passed
      ? []
      : [`${said("resolved", resolved, o.timeoutMs, o.markers)}: it does not pass with the fix`]),
  );
}

/** Buggy exits non-zero, resolved 0; where our markers frame the tests, the exit code must follow them. */
function exitBaseline(
  buggy: BaselineRun,
  resolved: BaselineRun,
  o: { markers: boolean; parser?: string },
): Baseline {
  const read = (r: BaselineRun) => {
    const text = o.markers ? extractSections(r.output, r.nonce).testOutput : undefined;
    return text !== undefined ? text : undefined;
  };
  const [bt, rt] = [read(buggy), read(resolved)];
  const parser = o.parser || (rt !== undefined ? detectParser(rt) : undefined);
  const judge = parser ? exitJudge({ markers: o.markers, parser }) : undefined;
  const tests = (r: BaselineRun) => (judge ? (judge(r, 0).tests ?? []) : []);
  const failing = tests(resolved).filter((t) => t.status === "FAILED" || t.status === "ERROR");
  const base = { markers: o.markers, ...(parser ? { parser } : {}), convention: "exit-code" as const };
  if (failing.length)
    return {
      ...base,
      ok: false,
      FAIL_TO_PASS: [],
      PASS_TO_PASS: [],
      reasons: [
        `the resolved state exits 0 while its own output shows failing tests (${failing
          .slice(0, 3)
          .map((t) => t.name)
          .join(", ")}): its exit code does not follow its tests`,
      ],
    };
  const l =
    bt !== undefined && rt !== undefined
      ? lists(tests(buggy), tests(resolved))
      : { FAIL_TO_PASS: [], PASS_TO_PASS: [] };
  return {
    ...base,
    ok: true,
    ...l,
    reasons: [`buggy exits ${buggy.exitCode}, resolved exits 0: judged by its exit code`],
  };
}

/** SWE-bench's convention: both states print a test section whose tests separate them. */
function logBaseline(buggy: BaselineRun, resolved: BaselineRun, markers: boolean): Baseline | undefined {
  const [b, r] = [swebenchSection(buggy.output), swebenchSection(resolved.output)];
  if (!b || !r) return undefined;
  const parser = detectParser(r.text);
  if (!parser) return undefined;
  const l = lists(
    logJudge({ parser, FAIL_TO_PASS: [], PASS_TO_PASS: [] })(buggy, 0).tests ?? [],
    logJudge({ parser, FAIL_TO_PASS: [], PASS_TO_PASS: [] })(resolved, 0).tests ?? [],
  );
  if (!l.FAIL_TO_PASS.length || (r.exit !== undefined && r.exit !== 0)) return undefined;
  return {
    ok: true,
    convention: "swebench-log",
    parser,
    markers,
    ...l,
    reasons: [
      `exits ${buggy.exitCode} and ${resolved.exitCode}, but its log (SWE-bench's markers, read by the ${parser} parser) shows ${l.FAIL_TO_PASS.length} test(s) failing without the fix and passing with it: judged by its log`,
    ],
  };
}

/** The judge for a gate's probes: the baseline's convention when there is one, else ours. */
export function judgeFor(e: Pick<Evidence, "baseline">): Judge {
  const b = e.baseline;
  if (!b) return OUR_JUDGE;
  if (b.convention === "swebench-log" && b.parser)
    return logJudge({ parser: b.parser, FAIL_TO_PASS: b.FAIL_TO_PASS, PASS_TO_PASS: b.PASS_TO_PASS });
  return exitJudge({ markers: b.markers, ...(b.parser ? { parser: b.parser } : {}) });
}

/** The baseline as a check verdict. */
export const baselineVerdict = (b: Baseline): CheckVerdict => ({
  check: "baseline",
  kind: "dynamic",
  passed: b.ok,
  reasons: b.reasons,
});

/** The baseline check: resolved once (it must pass), then buggy once (it must fail), in fresh containers. */
export async function runBaseline(e: Evidence, c: GateContext): Promise<CheckOutcome> {
  const spec = (state: "buggy" | "resolved"): StateSpec => ({
    image: e.image!,
    patch: state === "resolved" ? e.task.patch : undefined,
    testPatch: e.task.test_patch,
    evaluationScript: e.evaluationScript,
    timeoutMs: c.testTimeoutMs,
  });
  const resolved = await baselineRun(c.sandbox!, spec("resolved"), c.limits);
  // A verifier that hangs costs one time limit, not two.
  const buggy = resolved.timedOut ? undefined : await baselineRun(c.sandbox!, spec("buggy"), c.limits);
  e.baseline = decideBaseline(buggy, resolved, {
    markers: usesOurMarkers(e.evaluationScript),
    ...(e.parser ? { parser: e.parser } : {}),
    timeoutMs: c.testTimeoutMs,
  });
  const v = baselineVerdict(e.baseline);
  if (v.passed) return { verdicts: [v] };
  const reason =
    buggy && buggy.apply === "applied" && buggy.exitCode === 0 ? "buggy_passes" : "resolved_fails";
  return { verdicts: [v], failure: { reason, detail: v.reasons.join("; ") } };
}
