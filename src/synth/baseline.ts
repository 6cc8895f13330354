/**
 * The environment at its own commit, once for all its bugs: the widened verifier run N times in fresh
 * containers of the instance's image (the resolved state of every synthetic bug of this environment, whose
 * gold patch restores exactly this tree), the no-tests probe of that verifier, and one run under the load
 * probe's CPU quota. Tests that fail at the commit take their files out of the selection; tests that
 * differ between runs are flaky and tests that fail under the quota are timing-dependent: neither can be a
 * synthetic bug's FAIL_TO_PASS or PASS_TO_PASS.
 */
import { noTestsProbe } from "../checks/probes.ts";
import { parserFor } from "../harness/parse-run.ts";
import { runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { CheckVerdict, StateRun, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { narrowSelection, type Selection, type widenSelection } from "./selection.ts";

export interface Baseline {
  source_instance: string;
  image: string;
  selection: Selection;
  /** Resolved-state runs at the commit (they are every bug's resolved runs). */
  runs: StateRun[];
  /** Passed in every run and under the quota. */
  passing: string[];
  flaky: string[];
  slow: string[];
  /** Environment-wide verdicts every bug carries (no-tests probe, load probe). */
  verdicts: CheckVerdict[];
  /** The longest run, ms (sets the bugs' time limit). */
  max_ms: number;
}

export interface BaselineOptions {
  sandbox: Sandbox;
  image: string;
  parser: string;
  runs: number;
  timeoutMs: number;
  loadProbeCpus: number;
  plan: Parameters<typeof widenSelection>[0];
  first: Selection;
}

const passed = (r: StateRun) => new Set(r.tests.filter((t) => t.status === "PASSED").map((t) => t.name));

/** Test files a failing test's name points at (pytest node ids, Go packages, file stems in suite names). */
export function implicatedFiles(failing: readonly string[], files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const stem = f
      .split("/")
      .pop()!
      .replace(/\.[^.]+$/, "");
    const dir = f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : "";
    if (
      failing.some(
        (n) =>
          n.includes(f) ||
          (stem.length > 3 && n.includes(stem)) ||
          (dir && n.startsWith(`${dir}/`) && f.endsWith("_test.go")),
      )
    )
      out.add(f);
  }
  return out;
}

async function runsAt(o: BaselineOptions, sel: Selection): Promise<StateRun[]> {
  const parse = parserFor(o.parser);
  const runs: StateRun[] = [];
  for (let i = 0; i < o.runs; i++) {
    const raw = await runStateRaw(o.sandbox, {
      image: o.image,
      testPatch: "",
      evaluationScript: sel.script,
      timeoutMs: o.timeoutMs,
    });
    const run = toStateRun("resolved", raw, parse, 4000);
    runs.push(run);
    if (run.exit_code !== 0 || !run.parsed) break;
  }
  return runs;
}

/** The load probe once for the environment: which passing tests fail under the CPU quota. */
async function slowTests(o: BaselineOptions, sel: Selection, passing: Set<string>) {
  if (!o.loadProbeCpus) return { slow: [] as string[], verdict: undefined };
  const raw = await runStateRaw(o.sandbox, {
    image: o.image,
    testPatch: "",
    evaluationScript: sel.script,
    timeoutMs: o.timeoutMs * 4,
    limits: { cpus: o.loadProbeCpus },
  });
  const run = toStateRun("resolved", raw, parserFor(o.parser));
  const ok = passed(run);
  const slow = raw.timedOut ? [] : [...passing].filter((t) => !ok.has(t)).sort();
  const reasons = raw.timedOut
    ? [`inconclusive: the suite timed out under ${o.loadProbeCpus} CPU (a slow suite)`]
    : [
        `run once for the environment at its commit under ${o.loadProbeCpus} CPU (${(raw.durationMs / 1000).toFixed(1)}s): ` +
          (slow.length
            ? `${slow.length} tests fail there and are left out of every bug's lists`
            : "every passing test passes"),
      ];
  return {
    slow,
    verdict: { check: "load-probe", kind: "dynamic", passed: true, reasons } satisfies CheckVerdict,
  };
}

/**
 * The test file a run that died names last: where it was when the runner went down without a summary or a
 * failing test (click's `test_echo_via_pager[less]` ends pytest in a container without a terminal).
 */
export function lastNamedFile(log: string, files: readonly string[]): string | undefined {
  let best: { file: string; at: number } | undefined;
  for (const file of files) {
    const at = log.lastIndexOf(file);
    if (at >= 0 && (!best || at > best.at)) best = { file, at };
  }
  return best?.file;
}

export type BaselineOutcome = { ok: true; baseline: Baseline } | { ok: false; detail: string };

export async function baselineOf(o: BaselineOptions): Promise<BaselineOutcome> {
  let sel = o.first;
  const dropped = new Set<string>();
  let runs: StateRun[] = [];
  for (let attempt = 0; ; attempt++) {
    runs = await runsAt(o, sel);
    const bad = runs.find((r) => r.exit_code !== 0 || !r.parsed);
    if (!bad) break;
    const failing = bad.tests.filter((t) => t.status === "FAILED" || t.status === "ERROR").map((t) => t.name);
    const drop = implicatedFiles(failing, sel.testFiles);
    const died = !drop.size && lastNamedFile(bad.log_tail, sel.testFiles);
    if (died) drop.add(died);
    if (attempt >= 2 || !drop.size || !sel.wide)
      return {
        ok: false,
        detail: `the verifier does not pass at the environment's commit (exit ${bad.exit_code}${bad.timed_out ? ", timed out" : ""}; failing: ${failing.slice(0, 8).join(", ") || "none parsed"})`,
      };
    for (const f of drop) dropped.add(f);
    sel = await narrowSelection(o.plan, dropped);
    sel = { ...sel, note: `${sel.note}; ${dropped.size} test files left out (they fail at the commit)` };
  }
  const sets = runs.map(passed);
  const names = new Set(runs.flatMap((r) => r.tests.map((t) => t.name)));
  const all = [...names].filter((n) => sets.every((s) => s.has(n)));
  const flaky = [...names].filter((n) => sets.some((s) => s.has(n)) && !sets.every((s) => s.has(n))).sort();
  const probe = await noTestsProbe({ patch: "", test_patch: "" } as Task, sel.testFiles, {
    sandbox: o.sandbox,
    image: o.image,
    evaluationScript: sel.script,
    timeoutMs: o.timeoutMs,
  });
  if (!probe.passed)
    return { ok: false, detail: `no-tests probe of the widened verifier: ${probe.reasons.join("; ")}` };
  const { slow, verdict } = await slowTests(o, sel, new Set(all));
  const slowSet = new Set(slow);
  return {
    ok: true,
    baseline: {
      source_instance: o.plan.inst.instance_id,
      image: o.image,
      selection: sel,
      runs,
      passing: all.filter((n) => !slowSet.has(n)).sort(),
      flaky,
      slow,
      verdicts: [probe, ...(verdict ? [verdict] : [])],
      max_ms: Math.max(...runs.map((r) => r.duration_ms)),
    },
  };
}
