import type { Candidate, FileKind } from "../records/candidate.ts";
import type { Language } from "../records/common.ts";
import type { ReasonCode } from "../records/rejection.ts";
import type { Task } from "../records/task.ts";
import { classifyPath, rankLanguages } from "./classify.ts";
import { checkDiff, type FileDiff, joinSections } from "./diff.ts";
import { onlyTouchesTestModules } from "./rust-tests.ts";
import { wiresOnlyTests } from "./test-wiring.ts";

/**
 * Splitting a candidate's diff into the gold patch and the test patch, and the filters that reject.
 *
 * Policy (as SWE-bench): `test_patch` = every file classified `test`; `patch` = every other file, code and
 * non-code alike (docs, changelog, build files), so applying both reproduces the resolved tree exactly.
 * One exception: a build script whose changes only add the PR's test files to the build (test-wiring.ts).
 * The diff (not the source's file list) is the truth for binary, submodule and mode facts.
 *
 * Checks, in order, each with a stable reason code:
 *   not_merged → empty_diff → malformed_diff → undecodable_diff → submodule_change → binary_only →
 *   too_large → no_code_change → unsupported_language → no_test_change.
 * malformed_diff: a hunk whose lines do not add up to its `@@` header, stray lines, unparsable paths, or
 * non-blank input without any `diff --git` section (see checkDiff); the detail names the file and hunk.
 * A PR without test changes is still turned into a Task (needs_generated_tests = true) and ALSO rejected
 * with no_test_change: the default pipeline skips it, a test-generating builder can pick it up later.
 */

export interface SplitOptions {
  /** Reject PRs touching more files than this (default 100). */
  maxFiles?: number;
  /** Reject PRs changing more lines (added + removed) than this (default 5000). */
  maxLines?: number;
}

export interface SplitResult {
  task?: Task;
  rejection?: { reason: ReasonCode; detail: string };
}

type ReadFile = (commit: string, path: string) => Promise<Buffer | undefined>;

const reject = (reason: ReasonCode, detail: string, task?: Task): SplitResult => ({
  rejection: { reason, detail },
  task,
});

async function kindOf(f: FileDiff, c: Candidate, readFile?: ReadFile): Promise<FileKind> {
  const kind = classifyPath(f.path);
  if (kind !== "code" || !f.path.endsWith(".rs") || !readFile || f.binary) return kind;
  const text = async (commit: string, path: string) => (await readFile(commit, path))?.toString("utf8");
  const base = f.status === "added" ? undefined : await text(c.base_commit, f.oldPath);
  const resolved = f.status === "deleted" ? undefined : await text(c.resolved_commit, f.path);
  return onlyTouchesTestModules(f, base, resolved) ? "test" : "code";
}

/** Problem statement from the linked closing issues that have text, else from the PR itself. */
export function problemStatement(c: Candidate): { text: string; source: "issue" | "pr" } {
  const issues = c.linked_issues.filter((i) => i.closing && (i.title.trim() || i.body.trim()));
  if (issues.length > 0) {
    return {
      text: issues.map((i) => `${i.title.trim()}\n\n${i.body.trim()}`.trim()).join("\n\n"),
      source: "issue",
    };
  }
  return { text: `${c.title.trim()}\n\n${c.body.trim()}`.trim(), source: "pr" };
}

export async function splitCandidate(
  c: Candidate,
  diff: Buffer,
  opts: SplitOptions = {},
  readFile?: ReadFile,
): Promise<SplitResult> {
  if (!c.merged) return reject("not_merged", "the pull request was closed without being merged");
  const { files, problem } = checkDiff(diff);
  if (problem) return reject("malformed_diff", problem.slice(0, 1000));
  if (files.length === 0) return reject("empty_diff", "base and resolved commits have the same tree");
  const undecodable = files.filter((f) => f.undecodable);
  if (undecodable.length > 0) {
    return reject("undecodable_diff", `not valid UTF-8: ${undecodable.map((f) => f.path).join(", ")}`);
  }
  const subs = files.filter((f) => f.submodule);
  if (subs.length > 0) return reject("submodule_change", `submodule: ${subs.map((f) => f.path).join(", ")}`);
  if (files.every((f) => f.binary)) return reject("binary_only", `${files.length} binary file(s), no text`);
  const maxFiles = opts.maxFiles ?? 100;
  const maxLines = opts.maxLines ?? 5000;
  const lines = files.reduce((n, f) => n + f.additions + f.deletions, 0);
  if (files.length > maxFiles) return reject("too_large", `${files.length} files > ${maxFiles}`);
  if (lines > maxLines) return reject("too_large", `${lines} changed lines > ${maxLines}`);

  const kinds: FileKind[] = [];
  for (const f of files) kinds.push(await kindOf(f, c, readFile));
  // Build-script sections that only compile the PR's new test files go with the tests (test-wiring.ts).
  const named = files.filter((_, i) => kinds[i] === "test");
  for (const [i, f] of files.entries())
    if (kinds[i] === "other" && wiresOnlyTests(f, named)) kinds[i] = "test";
  const pick = (k: FileKind) => files.filter((_, i) => kinds[i] === k);
  const tests = pick("test");
  const code = pick("code");
  const other = pick("other");
  const ranked = rankLanguages(files.map((f, i) => ({ path: f.path, kind: kinds[i]! })));
  const language: Language = ranked[0] ?? "other";
  const statement = problemStatement(c);
  const task: Task = {
    instance_id: c.id,
    repo: c.repo,
    number: c.number,
    base_commit: c.base_commit,
    resolved_commit: c.resolved_commit,
    created_at: c.created_at,
    patch: joinSections([...code, ...other].sort(byOrder(files))),
    test_patch: joinSections(tests),
    problem_statement: statement.text,
    problem_statement_source: statement.source,
    hints_text: c.hints_text ?? "",
    pr_text: `${c.title.trim()}\n\n${c.body.trim()}`.trim(),
    language,
    languages: ranked,
    test_files: tests.map((f) => f.path),
    code_files: code.map((f) => f.path),
    other_files: other.map((f) => f.path),
    needs_generated_tests: false,
  };
  if (code.length === 0) {
    return reject("no_code_change", `only ${tests.length} test and ${other.length} other file(s) changed`);
  }
  if (language === "other") {
    return reject("unsupported_language", `code files: ${code.map((f) => f.path).join(", ")}`.slice(0, 500));
  }
  if (tests.length === 0) {
    return reject("no_test_change", "no test file changed; kept as a task needing generated tests", {
      ...task,
      needs_generated_tests: true,
    });
  }
  return { task };
}

const byOrder = (all: FileDiff[]) => (a: FileDiff, b: FileDiff) => all.indexOf(a) - all.indexOf(b);
