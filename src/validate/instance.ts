/** The one place an Instance is assembled: from a built environment and what validation found. */
import type {
  BaseStateInfo,
  Built,
  CheckVerdict,
  Instance,
  StateRun,
  TestCategories,
} from "../records/index.ts";

export interface ValidationFindings {
  runsPerState: number;
  runs: StateRun[];
  lists: {
    FAIL_TO_PASS: string[];
    PASS_TO_PASS: string[];
    flaky: string[];
    categories?: TestCategories;
    load_flaky?: string[];
  };
  baseState?: BaseStateInfo;
  verdicts: CheckVerdict[];
  /** Model usage of validation's own checks (the judge). */
  usage: { prompt_tokens: number; completion_tokens: number; usd: number };
  validateMs: number;
}

export function assembleInstance(b: Built, f: ValidationFindings): Instance {
  const t = b.task;
  // Verdicts made before validation on this image and script (the agent's judge) stay on the record.
  const carried = b.checks.filter((p) => !f.verdicts.some((v) => v.check === p.check));
  const p = b.provenance;
  return {
    instance_id: t.instance_id,
    repo: t.repo,
    base_commit: t.base_commit,
    patch: t.patch,
    test_patch: t.test_patch,
    problem_statement: t.problem_statement,
    problem_statement_source: t.problem_statement_source,
    hints_text: t.hints_text,
    created_at: t.created_at,
    version: b.environment.key,
    FAIL_TO_PASS: f.lists.FAIL_TO_PASS,
    PASS_TO_PASS: f.lists.PASS_TO_PASS,
    environment_setup_commit: t.base_commit,
    language: t.language,
    image: b.image,
    dockerfile: b.dockerfile,
    evaluation_script: b.evaluation_script,
    parser: b.parser,
    environment_key: b.environment.key,
    validation: {
      runs_per_state: f.runsPerState,
      runs: f.runs,
      fail_to_pass: f.lists.FAIL_TO_PASS,
      pass_to_pass: f.lists.PASS_TO_PASS,
      flaky: f.lists.flaky,
      ...(f.lists.categories ? { categories: f.lists.categories } : {}),
      ...(f.baseState ? { base_state: f.baseState } : {}),
      ...(f.lists.load_flaky?.length ? { load_flaky: f.lists.load_flaky } : {}),
      // Built from the Dockerfile this instance records with its own checkout (a full build, no reuse, the
      // agent's own build); not an environment another commit built or an earlier one updated in place.
      image_rebuilt: b.reuse !== "exact" && b.reuse !== "nearest",
    },
    checks: [...f.verdicts, ...carried],
    builder: { kind: p.kind, name: p.name, attempts: p.attempts },
    cost: {
      wall_ms: b.build_ms + f.validateMs,
      build_ms: b.build_ms,
      validate_ms: f.validateMs,
      // The build, validation's checks (the judge) and the PR quality filter's LLM checks.
      prompt_tokens: p.prompt_tokens + f.usage.prompt_tokens + (t.quality?.cost?.prompt_tokens ?? 0),
      completion_tokens:
        p.completion_tokens + f.usage.completion_tokens + (t.quality?.cost?.completion_tokens ?? 0),
      usd: p.usd + f.usage.usd + (t.quality?.cost?.usd ?? 0),
    },
    ...(b.generated_test_patch ? { generated_test_patch: b.generated_test_patch } : {}),
    ...(b.list_script ? { list_script: b.list_script } : {}),
    ...(t.quality ? { quality: t.quality } : {}),
  };
}
