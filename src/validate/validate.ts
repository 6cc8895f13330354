import type { BuildSuccess } from "../builder/builder.ts";
import { presentTestFiles } from "../builder/builder.ts";
import { leakProbe } from "../checks/leak.ts";
import { LOAD_PROBE_CPUS, loadProbe } from "../checks/load.ts";
import { commentProbe, noTestsProbe } from "../checks/probes.ts";
import { runStaticChecks } from "../checks/static.ts";
import { crossCheckVerdict, grade } from "../harness/grade.ts";
import { type OutputParser, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { CheckVerdict, Instance, ReasonCode, StateRun, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

export interface ValidateOptions {
  sandbox: Sandbox;
  parserFor: (name: string) => OutputParser;
  /** Runs per state, counting the builder's quick check (default 3). */
  runsPerState?: number;
  testTimeoutMs?: number;
  /** Skip the dynamic hacking probes (faster; the instance records that they did not run). */
  skipProbes?: boolean;
  /** CPU quota of the load probe (default LOAD_PROBE_CPUS); 0 turns it off. */
  loadProbeCpus?: number;
  /** Look for the fix in the image outside the tracked files (default true). */
  leakProbe?: boolean;
}

export type ValidationOutcome =
  | { ok: true; instance: Instance }
  | { ok: false; reason: ReasonCode; detail: string; runs: StateRun[]; checks: CheckVerdict[] };

/**
 * Validation (DESIGN §3): static checks of evaluation.sh first (a hacked verifier is not worth running),
 * then N runs per state in fresh containers of the image built from the Dockerfile, grading into
 * FAIL_TO_PASS / PASS_TO_PASS / flaky, then the dynamic hacking probes, then the load probe (the gold patch
 * must still resolve under a CPU quota).
 */
export async function validate(
  task: Task,
  build: BuildSuccess,
  o: ValidateOptions,
): Promise<ValidationOutcome> {
  const started = Date.now();
  const { environment, evaluationScript } = build;
  const image = build.image ?? environment.image;
  const testFiles = presentTestFiles(task);
  const checks: CheckVerdict[] = runStaticChecks(evaluationScript, {
    test_files: testFiles,
    code_files: task.code_files,
    gold_patch: task.patch,
    test_patch: task.test_patch,
  });
  const runs: StateRun[] = [...build.runs];
  const failed = checks.filter((c) => !c.passed);
  if (failed.length)
    return {
      ok: false,
      reason: "hacked_verifier",
      detail: failed.map((c) => `${c.check}: ${c.reasons.join("; ")}`).join("\n"),
      runs,
      checks,
    };

  const n = o.runsPerState ?? 3;
  const timeoutMs = o.testTimeoutMs ?? 15 * 60_000;
  const parse = o.parserFor(environment.parser);
  const count = (state: StateRun["state"]) => runs.filter((r) => r.state === state).length;
  for (const state of ["buggy", "resolved"] as const) {
    while (count(state) < n) {
      const raw = await runStateRaw(o.sandbox, {
        image,
        patch: state === "resolved" ? task.patch : undefined,
        testPatch: task.test_patch,
        evaluationScript,
        timeoutMs,
      });
      runs.push(toStateRun(state, raw, parse));
    }
  }
  const graded = grade(runs);
  if (graded.verdict !== "ok")
    return { ok: false, reason: graded.verdict, detail: graded.detail, runs, checks };
  const cross = crossCheckVerdict(runs);
  checks.push(cross);
  if (!cross.passed)
    return {
      ok: false,
      reason: "exit_code_mismatch",
      detail: `exit-code-cross-check: ${cross.reasons.join("; ")}`,
      runs,
      checks,
    };
  if (o.leakProbe ?? true) {
    const leak = await leakProbe(task, { sandbox: o.sandbox, image });
    checks.push(leak);
    if (!leak.passed)
      return {
        ok: false,
        reason: "fix_leaked",
        detail: `leak-probe: ${leak.reasons.join("; ")}`,
        runs,
        checks,
      };
  }

  if (!o.skipProbes) {
    const probe = { sandbox: o.sandbox, image, evaluationScript, timeoutMs };
    checks.push(await commentProbe(task, probe));
    checks.push(await noTestsProbe(task, testFiles, probe));
    const bad = checks.filter((c) => !c.passed);
    if (bad.length) {
      const reason: ReasonCode =
        bad[0]!.check === "comment-probe" ? "comment_probe_failed" : "no_tests_probe_failed";
      return {
        ok: false,
        reason,
        detail: bad.map((c) => `${c.check}: ${c.reasons.join("; ")}`).join("\n"),
        runs,
        checks,
      };
    }
  }

  const cpus = o.loadProbeCpus ?? LOAD_PROBE_CPUS;
  if (cpus > 0) {
    const lists = { FAIL_TO_PASS: graded.fail_to_pass, PASS_TO_PASS: graded.pass_to_pass };
    const load = await loadProbe(task, lists, {
      sandbox: o.sandbox,
      image,
      evaluationScript,
      parse,
      cpus,
      timeoutMs,
    });
    checks.push(load);
    if (!load.passed)
      return {
        ok: false,
        reason: "timing_dependent",
        detail: `load-probe: ${load.reasons.join("; ")}`,
        runs,
        checks,
      };
  }

  const validateMs = Date.now() - started;
  const instance: Instance = {
    instance_id: task.instance_id,
    repo: task.repo,
    base_commit: task.base_commit,
    patch: task.patch,
    test_patch: task.test_patch,
    problem_statement: task.problem_statement,
    problem_statement_source: task.problem_statement_source,
    hints_text: task.hints_text,
    created_at: task.created_at,
    version: environment.key,
    FAIL_TO_PASS: graded.fail_to_pass,
    PASS_TO_PASS: graded.pass_to_pass,
    environment_setup_commit: task.base_commit,
    language: task.language,
    image,
    dockerfile: build.dockerfile,
    evaluation_script: evaluationScript,
    parser: environment.parser,
    environment_key: environment.key,
    validation: {
      runs_per_state: n,
      runs,
      fail_to_pass: graded.fail_to_pass,
      pass_to_pass: graded.pass_to_pass,
      flaky: graded.flaky,
      // Built from the Dockerfile this instance records with its own checkout (a full build, no reuse, the
      // agent's own build); not an environment another commit built or an earlier one updated in place.
      image_rebuilt: build.reuse !== "exact" && build.reuse !== "nearest",
    },
    checks,
    builder: {
      kind: "recipe",
      name: build.plan.name,
      attempts: build.attempts.filter((a) => a.stage === "build" || a.stage === "resolved").length,
    },
    cost: {
      wall_ms: build.buildMs + validateMs,
      build_ms: build.buildMs,
      validate_ms: validateMs,
      prompt_tokens: 0,
      completion_tokens: 0,
      usd: 0,
    },
  };
  return { ok: true, instance };
}
