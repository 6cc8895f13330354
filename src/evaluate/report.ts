/** SWE-bench-shaped reports: one per instance (report.json) and one per run (<model>.<run_id>.json). */

export interface SuccessFailure {
  success: string[];
  failure: string[];
}

export interface TestsStatus {
  FAIL_TO_PASS: SuccessFailure;
  PASS_TO_PASS: SuccessFailure;
  FAIL_TO_FAIL: SuccessFailure;
  PASS_TO_FAIL: SuccessFailure;
}

/** How one prediction ended. `error` = the harness could not judge it (image missing, engine failure …). */
export type EvalStatus = "resolved" | "unresolved" | "patch_failed" | "error";

export interface InstanceReport {
  patch_is_None: boolean;
  patch_exists: boolean;
  patch_successfully_applied: boolean;
  resolved: boolean;
  tests_status: TestsStatus;
  /** Ours, beside SWE-bench's keys. */
  sweu: {
    status: EvalStatus;
    exit_code: number | null;
    timed_out: boolean;
    duration_ms: number;
    /** Whether the output had the nonce markers and the parser found tests. */
    parsed: boolean;
    /** Why it is not resolved, in words (empty when resolved). */
    reasons: string[];
    error?: string;
    /** Set when the harness could not get the instance's image (not here, not pullable): exit 4. */
    error_kind?: "image_unavailable";
  };
}

export function emptyTestsStatus(): TestsStatus {
  const sf = () => ({ success: [], failure: [] });
  return { FAIL_TO_PASS: sf(), PASS_TO_PASS: sf(), FAIL_TO_FAIL: sf(), PASS_TO_FAIL: sf() };
}

export interface EvalResult {
  instance_id: string;
  model: string;
  /** The prediction's patch as given (null when the model produced none). */
  patch: string | null;
  report: InstanceReport;
  /** Everything the container printed: apply steps and evaluation.sh. */
  output: string;
}

export interface RunReport {
  total_instances: number;
  submitted_instances: number;
  completed_instances: number;
  resolved_instances: number;
  unresolved_instances: number;
  empty_patch_instances: number;
  error_instances: number;
  completed_ids: string[];
  incomplete_ids: string[];
  empty_patch_ids: string[];
  submitted_ids: string[];
  resolved_ids: string[];
  unresolved_ids: string[];
  error_ids: string[];
  /** Ours: predictions whose patch did not apply (also in unresolved_ids). */
  patch_failed_ids: string[];
  /** Ours: predictions naming an instance the dataset does not have (not evaluated). */
  unknown_prediction_ids: string[];
  schema_version: 2;
  run_id: string;
  model: string;
}

const sorted = (xs: Iterable<string>) => [...xs].sort();

/**
 * The run summary. `datasetIds` are the instances in scope (after --instance-ids), `results` what was
 * evaluated. Empty patches are evaluated too (that is how a dataset is checked), so they count both as
 * empty and in completed/resolved/unresolved.
 */
export function runReport(o: {
  runId: string;
  model: string;
  datasetIds: readonly string[];
  results: readonly EvalResult[];
  unknownPredictionIds?: readonly string[];
}): RunReport {
  const submitted = new Set(o.results.map((r) => r.instance_id));
  const by = (s: EvalStatus) => o.results.filter((r) => r.report.sweu.status === s).map((r) => r.instance_id);
  const errors = by("error");
  const resolved = by("resolved");
  const unresolved = [...by("unresolved"), ...by("patch_failed")];
  const completed = [...resolved, ...unresolved];
  const empty = o.results.filter((r) => !r.report.patch_exists).map((r) => r.instance_id);
  return {
    total_instances: o.datasetIds.length,
    submitted_instances: submitted.size,
    completed_instances: completed.length,
    resolved_instances: resolved.length,
    unresolved_instances: unresolved.length,
    empty_patch_instances: empty.length,
    error_instances: errors.length,
    completed_ids: sorted(completed),
    incomplete_ids: sorted(o.datasetIds.filter((id) => !submitted.has(id))),
    empty_patch_ids: sorted(empty),
    submitted_ids: sorted(submitted),
    resolved_ids: sorted(resolved),
    unresolved_ids: sorted(unresolved),
    error_ids: sorted(errors),
    patch_failed_ids: sorted(by("patch_failed")),
    unknown_prediction_ids: sorted(o.unknownPredictionIds ?? []),
    schema_version: 2,
    run_id: o.runId,
    model: o.model,
  };
}
