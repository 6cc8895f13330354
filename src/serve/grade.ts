/**
 * A submission graded exactly as `evaluate` grades a prediction: a fresh container of the instance's
 * image with networking off (from the warm pool: started earlier, never used), the patch applied with
 * git apply / --3way / patch --fuzz, the test files restored and the test patch applied, evaluation.sh
 * run with a nonce and a timeout (the harness's runInContainer), then judged by evaluate's judgeRun. The
 * session's own container is never graded: what an agent did outside its diff (a patched test runner,
 * files under site-packages) does not reach the reward.
 */
import { judgeRun } from "../evaluate/evaluate.ts";
import { parserFor } from "../harness/parse-run.ts";
import { runInContainer } from "../harness/run-state.ts";
import type { Instance } from "../records/index.ts";
import type { Container, ContainerSpec } from "../sandbox/sandbox.ts";
import type { SubmitResult } from "./api.ts";
import { ServeError } from "./errors.ts";
import { WORKSPACE } from "./paths.ts";

/** Changes since the base commit, untracked files included, through a throw-away index (the session's own index stays). */
export function diffScript(capBytes: number): string {
  return [
    `cd ${WORKSPACE} || exit 3`,
    '__i=$(mktemp); cp .git/index "$__i" 2>/dev/null',
    'GIT_INDEX_FILE="$__i" git add -A >/dev/null 2>&1 || { rm -f "$__i"; echo "git add failed" >&2; exit 4; }',
    `GIT_INDEX_FILE="$__i" git diff --cached --binary --no-color --no-ext-diff HEAD 2>/dev/null | head -c ${capBytes + 1}`,
    '__rc=${PIPESTATUS[0]}; rm -f "$__i"; exit $__rc',
  ].join("\n");
}

export async function containerDiff(container: Container, capBytes: number): Promise<string> {
  const r = await container.exec(diffScript(capBytes), { timeoutMs: 120_000 });
  if (Buffer.byteLength(r.output) > capBytes)
    throw new ServeError(
      "output_too_large",
      `the session's diff is over ${capBytes} bytes (--max-upload-bytes): remove large or generated files from /testbed`,
    );
  // After the size check: a diff cut short by `head` ends git with SIGPIPE.
  if (r.exitCode !== 0 || r.timedOut)
    throw new ServeError(
      "internal",
      `reading the session's diff failed (exit ${r.exitCode}): ${r.output.slice(-500)}`,
    );
  return r.output;
}

export function patchFilesOf(diff: string): string[] {
  return [...new Set([...diff.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)].map((m) => m[2]!))];
}

export interface GradeDeps {
  /** A fresh container for grading (the warm pool's take). */
  take(spec: ContainerSpec): Promise<{ container: Container; warm: boolean }>;
  timeoutMs: number;
  /** Bytes of the run's output returned as test_output. */
  outputTail: number;
}

/**
 * Grade a patch. A patch that does not apply is the submitter's error (422, the session goes on); a test
 * patch that does not apply or an engine failure is ours (5xx); neither is ever a reward.
 */
export async function gradePatch(
  inst: Instance,
  image: string,
  patch: string,
  source: SubmitResult["patch_source"],
  deps: GradeDeps & { spec: ContainerSpec },
): Promise<SubmitResult> {
  const started = Date.now();
  const parse = parserFor(inst.parser);
  const { container } = await deps.take(deps.spec);
  let raw: Awaited<ReturnType<typeof runInContainer>>;
  try {
    raw = await runInContainer(container, {
      image,
      patch,
      testPatch: inst.test_patch,
      evaluationScript: inst.evaluation_script,
      timeoutMs: deps.timeoutMs,
    });
  } finally {
    await container.remove().catch(() => undefined);
  }
  const pred = { instance_id: inst.instance_id, model_name_or_path: "serve", model_patch: patch };
  const report = judgeRun(inst, pred, raw, parse);
  const output = raw.applyLog + raw.output;
  const test_output = output.length > deps.outputTail ? output.slice(-deps.outputTail) : output;
  if (report.sweu.status === "patch_failed")
    throw new ServeError(
      "patch_does_not_apply",
      "the patch does not apply to the base commit (git apply, git apply --3way and patch --fuzz=5 all refused it)",
      { apply_log: raw.applyLog.slice(-4000) },
    );
  if (report.sweu.status === "error")
    throw new ServeError("grading_failed", report.sweu.error ?? report.sweu.reasons.join("; "), {
      test_output,
    });
  return {
    reward: report.resolved ? 1 : 0,
    resolved: report.resolved,
    patch_source: source,
    patch,
    report,
    test_output,
    grade_ms: Date.now() - started,
  };
}
