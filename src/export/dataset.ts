/**
 * The dataset row: one flat object per instance, identical in dataset.jsonl and dataset.parquet.
 *
 * SWE-bench's own files carry FAIL_TO_PASS / PASS_TO_PASS as JSON-encoded strings; we do the same, and
 * encode our nested fields (validation, checks, builder, cost) the same way, so every column is a plain
 * string and the two files have the same columns and values (docs/dataset.md).
 */

import { renderEvalScript } from "../harness/eval-script.ts";
import { Instance } from "../records/index.ts";

/**
 * How a column is derived from an Instance field: copied ("string"), JSON-encoded ("json"), copied when
 * the field is set and "" when it is not ("optional"; "" reads back as unset), JSON-encoded when set and ""
 * when not ("optional-json"), or computed from the whole
 * instance for other people's loaders ("derived", see DERIVED; read back only where it adds information).
 */
type ColumnKind = "string" | "json" | "optional" | "optional-json" | "derived";

/** Columns computed from the instance, for consumers that run it without our code (docs/dataset.md). */
const DERIVED = {
  /** What mini-swe-agent, SWE-agent, SkyRL and SWE-smith pull: the registry reference once pushed. */
  image_name: (i: Instance) => i.image_name ?? i.image,
  /** `pr` or `synthetic` (a bug injected into a built environment, src/synth/). */
  source: (i: Instance) => i.source ?? "pr",
  /** Self-contained verifier: run after the candidate patch is applied, exit 0 = resolved. */
  eval_script: (i: Instance) => renderEvalScript(i),
} as const;

/** Column order is the file order. SWE-bench's fields first, then ours. */
export const DATASET_COLUMNS = [
  ["instance_id", "string"],
  ["repo", "string"],
  ["base_commit", "string"],
  ["patch", "string"],
  ["test_patch", "string"],
  ["problem_statement", "string"],
  ["hints_text", "string"],
  ["created_at", "string"],
  ["version", "string"],
  ["FAIL_TO_PASS", "json"],
  ["PASS_TO_PASS", "json"],
  ["environment_setup_commit", "string"],
  ["language", "string"],
  ["problem_statement_source", "optional"],
  ["original_problem_statement", "optional"],
  ["statement", "optional-json"],
  ["quality", "optional-json"],
  ["image", "string"],
  ["image_name", "derived"],
  ["dockerfile", "string"],
  ["evaluation_script", "string"],
  ["eval_script", "derived"],
  ["parser", "string"],
  ["environment_key", "string"],
  ["validation", "json"],
  ["checks", "json"],
  ["builder", "json"],
  ["cost", "json"],
  ["generated_test_patch", "optional"],
  ["list_script", "optional"],
  ["source", "derived"],
  ["synthetic", "optional-json"],
] as const satisfies readonly (readonly [keyof Instance | keyof typeof DERIVED, ColumnKind])[];

export type DatasetColumn = (typeof DATASET_COLUMNS)[number][0];

/** What each column holds, for dataset cards (docs/dataset.md says the same at more length). */
export const COLUMN_DOCS: Record<DatasetColumn, string> = {
  instance_id: "`owner__repo-NUMBER`",
  repo: "`owner/repo`",
  base_commit: "the commit the PR applies to",
  patch: "gold patch (the PR's non-test changes)",
  test_patch: "the PR's test changes",
  problem_statement: "from the linked issues, else the PR's title and body",
  hints_text: "comments on the linked issues written before the PR was opened",
  created_at: "the PR's creation time (ISO 8601)",
  version: "version label of the environment",
  FAIL_TO_PASS: "JSON list of test names: fail on every buggy run, pass on every resolved run",
  PASS_TO_PASS: "JSON list of test names passing in every run of both states",
  environment_setup_commit: "the commit the environment was installed from",
  language: "`python`, `javascript`, `typescript`, `go`, `java`, `rust`, …",
  problem_statement_source:
    "`issue` (from the linked issues), `pr` (the PR's own title and body), `written` (by the statement writer or templated from failing tests); synthetic rows `template` or `model`",
  original_problem_statement: "the mined statement, kept when problem_statement was written; empty otherwise",
  statement:
    "JSON: what the statement checks found (leaks, gate verdict, writer attempts, flags); empty in older rows",
  quality: "JSON: the PR quality filter's verdicts and score; empty in older rows",
  image: "the local tag the image was built under",
  image_name: "the image to pull: its registry reference once pushed, else the local tag",
  dockerfile: "the Dockerfile of that image",
  evaluation_script:
    "`evaluation.sh`, the verifier our harness runs (it applies the test patch and gives a nonce)",
  eval_script: "self-contained verifier: run in /testbed after applying a patch; exit 0 = resolved",
  parser: "name of the log parser that reads evaluation.sh's output",
  environment_key: "content key of the environment (instances with equal keys share an image)",
  validation: "JSON: runs per state, each run's exit code, duration, per-test results, log tail; flaky tests",
  checks: "JSON list: each hacking/leakage check with its verdict and reasons",
  builder: 'JSON: `{kind: "recipe"|"model", name, attempts}`',
  cost: "JSON: `{wall_ms, build_ms, validate_ms, prompt_tokens, completion_tokens, usd}`",
  generated_test_patch:
    "the tests the building agent wrote when the PR had none (then equal to test_patch); empty otherwise",
  list_script:
    "evaluation.sh's frame around the runner's test listing (go test -list, pytest --collect-only, …); empty otherwise",
  source: "`pr` (a merged PR) or `synthetic` (a bug injected into a built environment by `synth`)",
  synthetic: "JSON, synthetic rows only: strategy, changed lines, files, symbols, source instance and commit",
};
export type DatasetRow = Record<DatasetColumn, string>;

export function instanceToRow(inst: Instance): DatasetRow {
  const row = {} as DatasetRow;
  for (const [name, kind] of DATASET_COLUMNS) {
    if (kind === "derived") {
      row[name] = DERIVED[name as keyof typeof DERIVED](inst);
      continue;
    }
    const value = inst[name as keyof Instance];
    row[name] =
      kind === "json" || (kind === "optional-json" && value !== undefined)
        ? JSON.stringify(value)
        : value === undefined
          ? ""
          : String(value);
  }
  return row;
}

/** Fields a row must carry for the harness to run it (SWE-bench's own datasets lack the last four). */
const REQUIRED_FOR_HARNESS = ["instance_id", "base_commit", "test_patch", "FAIL_TO_PASS", "PASS_TO_PASS"];
const OURS_FOR_HARNESS = ["image", "evaluation_script", "parser"];

/**
 * Read a dataset row back into an Instance. Accepts JSON strings or already-decoded values for the
 * nested columns (a row edited by hand, or loaded by `datasets` and re-saved). Throws a plain Error that
 * names the row and the field when the row is not usable.
 */
export function rowToInstance(raw: unknown, where = "row"): Instance {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const obj = raw as Record<string, unknown>;
  for (const f of [...REQUIRED_FOR_HARNESS, ...OURS_FOR_HARNESS]) {
    if (obj[f] === undefined || obj[f] === null) {
      const hint = OURS_FOR_HARNESS.includes(f)
        ? " (a swe-universe dataset row is needed: it names the image, evaluation script and parser)"
        : "";
      throw new Error(`${where}: missing field '${f}'${hint}`);
    }
  }
  const decoded: Record<string, unknown> = { ...obj };
  for (const [name, kind] of DATASET_COLUMNS) {
    const v = obj[name];
    if ((kind === "optional" || kind === "optional-json") && (v === "" || v === null)) {
      delete decoded[name];
      continue;
    }
    // eval_script is ours to derive; image_name is kept where it names something else than `image`.
    if (name === "eval_script" || (name === "image_name" && (!v || v === obj.image))) delete decoded[name];
    // A PR's row says `pr`; its record leaves the field unset, as records made before it existed do.
    if (name === "source" && (v === "pr" || v === "" || v === null)) delete decoded[name];
    if ((kind === "json" || (kind === "optional-json" && v)) && typeof v === "string") {
      try {
        decoded[name] = JSON.parse(v);
      } catch {
        throw new Error(`${where}: field '${name}' is not valid JSON`);
      }
    }
  }
  const parsed = Instance.safeParse(decoded);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: invalid field '${issue?.path.join(".")}': ${issue?.message}`);
  }
  return parsed.data;
}
