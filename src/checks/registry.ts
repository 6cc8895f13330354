/**
 * The checks as a registry keyed by name, like the parsers: each declares its kind, what it needs (an
 * image, runs, the graded lists, a model) and the rejection reason when it fails, and how it runs.
 * src/checks/gate.ts runs lists of these names as gates.
 */
import { crossCheckVerdict, grade } from "../harness/grade.ts";
import type { CheckVerdict, ReasonCode, Task } from "../records/index.ts";
import { baseKnowledge, baseState } from "./base-state.ts";
import { judgeFor, runBaseline } from "./baseline.ts";
import { gitProbe, inverseMutation, poisonProbe, rewriteProbe, stubProbe } from "./behaviour.ts";
import { synthInverseMutation } from "./inverse.ts";
import { judgeVerifier } from "./judge.ts";
import { leakProbe } from "./leak.ts";
import { judgeLoad, type LoadRun, loadProbe, loadRun } from "./load.ts";
import { commentProbe, noTestsProbe } from "./probes.ts";
import { quickCheck } from "./quick.ts";
import { stateRuns } from "./state-runs.ts";
import { runStaticChecks } from "./static.ts";
import type { Check, CheckOutcome, Evidence, GateContext } from "./types.ts";

const failed = (vs: CheckVerdict[]) =>
  vs
    .filter((v) => !v.passed)
    .map((v) => `${v.check}: ${v.reasons.join("; ")}`)
    .join("\n");

/** One verdict as a check outcome: failing it fails the gate with `reason`. */
const verdictOutcome = (v: CheckVerdict, reason: ReasonCode): CheckOutcome =>
  v.passed
    ? { verdicts: [v] }
    : { verdicts: [v], failure: { reason, detail: `${v.check}: ${v.reasons.join("; ")}` } };

const probeOptions = (e: Evidence, c: GateContext) => ({
  sandbox: c.sandbox!,
  image: e.image!,
  evaluationScript: e.evaluationScript,
  timeoutMs: c.testTimeoutMs,
  judge: judgeFor(e),
  ...(c.limits ? { limits: c.limits } : {}),
});

const loadOptions = (e: Evidence, c: GateContext) => ({
  ...probeOptions(e, c),
  parse: c.parserFor(e.parser),
  cpus: c.loadProbeCpus!,
});

/** A behaviour probe of the audit: runs only on a verifier whose baseline passed. */
const behaviour = (name: string, run: (e: Evidence, c: GateContext) => Promise<CheckVerdict>): Check => ({
  name,
  kind: "dynamic",
  needs: ["image"],
  reason: "hacked_verifier",
  probe: true,
  run: async (e, c) => verdictOutcome(await run(e, c), "hacked_verifier"),
});

export const CHECKS = {
  static: {
    name: "static",
    kind: "static",
    needs: [],
    reason: "hacked_verifier",
    probe: false,
    async run(e) {
      const verdicts = runStaticChecks(e.evaluationScript, {
        test_files: e.testFiles,
        code_files: e.task.code_files,
        gold_patch: e.task.patch,
        test_patch: e.task.test_patch,
        ...(e.repo ? { repo: e.repo } : {}),
      });
      const bad = failed(verdicts);
      return bad ? { verdicts, failure: { reason: "hacked_verifier", detail: bad } } : { verdicts };
    },
  },
  "quick-check": {
    name: "quick-check",
    kind: "state",
    needs: ["image"],
    reason: "resolved_fails",
    probe: false,
    run: (e, c) => quickCheck(e, c),
  },
  "state-runs": {
    name: "state-runs",
    kind: "state",
    needs: ["image"],
    reason: "internal_error",
    probe: false,
    run: (e, c) => stateRuns(e, c),
  },
  /** The base state (no test patch): not needed, listed once, or run N times (src/checks/base-state.ts). */
  "base-state": {
    name: "base-state",
    kind: "state",
    needs: ["image", "runs"],
    reason: "internal_error",
    probe: false,
    run: (e, c) => baseState(e, c),
  },
  grade: {
    name: "grade",
    kind: "state",
    needs: ["runs"],
    reason: "no_fail_to_pass",
    probe: false,
    async run(e) {
      const g = grade(e.runs, { base: baseKnowledge(e), testPatch: e.task.test_patch });
      e.lists = {
        FAIL_TO_PASS: g.fail_to_pass,
        PASS_TO_PASS: g.pass_to_pass,
        flaky: g.flaky,
        categories: g.categories,
      };
      return g.verdict === "ok" ? {} : { failure: { reason: g.verdict, detail: g.detail } };
    },
  },
  "exit-code-cross-check": {
    name: "exit-code-cross-check",
    kind: "dynamic",
    needs: ["runs"],
    reason: "exit_code_mismatch",
    probe: false,
    run: async (e) => verdictOutcome(crossCheckVerdict(e.runs), "exit_code_mismatch"),
  },
  "leak-probe": {
    name: "leak-probe",
    kind: "leak",
    needs: ["image"],
    reason: "fix_leaked",
    probe: true,
    concurrent: true,
    run: async (e, c) =>
      verdictOutcome(
        await leakProbe(
          { patch: e.task.patch, repo: (e.task as Partial<Task>).repo },
          { sandbox: c.sandbox!, image: e.image! },
        ),
        "fix_leaked",
      ),
  },
  "comment-probe": {
    name: "comment-probe",
    kind: "dynamic",
    needs: ["image"],
    reason: "comment_probe_failed",
    probe: true,
    concurrent: true,
    run: async (e, c) =>
      verdictOutcome(await commentProbe(e.task as Task, probeOptions(e, c)), "comment_probe_failed"),
  },
  "no-tests-probe": {
    name: "no-tests-probe",
    kind: "dynamic",
    needs: ["image"],
    reason: "no_tests_probe_failed",
    probe: true,
    concurrent: true,
    run: async (e, c) =>
      verdictOutcome(
        await noTestsProbe(e.task as Task, e.testFiles, probeOptions(e, c)),
        "no_tests_probe_failed",
      ),
  },
  /** The audit's baseline: buggy fails, resolved passes; how the verifier reports (exit code or log). */
  baseline: {
    name: "baseline",
    kind: "dynamic",
    needs: ["image"],
    reason: "resolved_fails",
    probe: false,
    run: (e, c) => runBaseline(e, c),
  },
  "poison-probe": behaviour("poison-probe", (e, c) => poisonProbe(e.task, probeOptions(e, c))),
  "stub-probe": behaviour("stub-probe", (e, c) => stubProbe(e.task, probeOptions(e, c))),
  "rewrite-probe": behaviour("rewrite-probe", (e, c) => rewriteProbe(e.task, probeOptions(e, c))),
  "inverse-mutation": behaviour("inverse-mutation", async (e, c) => {
    const r = await inverseMutation(e.task, probeOptions(e, c), e.baseline ?? { FAIL_TO_PASS: [] });
    e.unneeded = r.unneeded;
    return r.verdict;
  }),
  "git-probe": behaviour("git-probe", (e, c) => gitProbe(e.task, probeOptions(e, c), e.title)),
  "load-probe": {
    name: "load-probe",
    kind: "dynamic",
    needs: ["image", "lists"],
    reason: "timing_dependent",
    probe: true,
    exclusive: true,
    // The run under the quota needs no lists: with lanes it starts beside the state runs, holding no lane.
    head: (e, c) => loadRun(e.task, loadOptions(e, c)),
    async run(e, c, head) {
      const o = loadOptions(e, c);
      const first = (await head?.catch(() => undefined)) as LoadRun | undefined;
      const clean =
        first && !first.inconclusive && !first.raw.timedOut ? judgeLoad(e.lists!, first, o) : undefined;
      // A clean pass beside the others stands (under no more than the quota it would pass alone); anything
      // else is decided by a run alone, holding every lane, as a sequential gate decides it.
      const r =
        clean?.verdict.passed && !clean.loadFlaky.length ? clean : await loadProbe(e.task, e.lists!, o);
      // Tests that fail only under load leave the lists (as flaky tests do); the instance stays while
      // FAIL_TO_PASS has tests left.
      if (r.loadFlaky.length) e.lists = { ...e.lists!, ...r.lists, load_flaky: r.loadFlaky };
      return verdictOutcome(r.verdict, "timing_dependent");
    },
  },
  "synth-inverse-mutation": {
    name: "synth-inverse-mutation",
    kind: "dynamic",
    needs: ["image", "lists"],
    reason: "inverse_mutation_failed",
    // Part of what makes a synthetic bug a task, not a probe of the verifier: --skip-probes keeps it.
    probe: false,
    async run(e, c) {
      const r = await synthInverseMutation(e.task, e.lists!, {
        ...probeOptions(e, c),
        parse: c.parserFor(e.parser),
      });
      return r.reason
        ? {
            verdicts: [r.verdict],
            failure: { reason: r.reason, detail: `synth-inverse-mutation: ${r.verdict.reasons.join("; ")}` },
          }
        : { verdicts: [r.verdict] };
    },
  },
  judge: {
    name: "judge",
    kind: "judge",
    needs: ["model"],
    reason: "hacked_verifier",
    probe: false,
    async run(e, c) {
      const j = await judgeVerifier(
        c.model!,
        {
          evaluationScript: e.evaluationScript,
          installScript: e.installScript,
          testPatch: e.task.test_patch,
          files: e.files ?? [],
          testFiles: e.testFiles,
          codeFiles: e.task.code_files,
        },
        c.signal,
      );
      e.usage.prompt_tokens += j.usage.prompt_tokens;
      e.usage.completion_tokens += j.usage.completion_tokens;
      e.usage.usd += j.usd;
      return verdictOutcome(j.verdict, "hacked_verifier");
    },
  },
} as const satisfies Record<string, Check>;

export type CheckName = keyof typeof CHECKS;
