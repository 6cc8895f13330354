/**
 * Inverse mutation testing of a synthetic bug (Self-Play SWE-RL; check `synth-inverse-mutation`, beside the
 * audit's `inverse-mutation` probe of a verifier in behaviour.ts): undoing each file of a bug alone, on the buggy state, must
 * make at least one FAIL_TO_PASS test pass, so every changed file is part of the bug; and the whole gold
 * patch must resolve in the image itself (every FAIL_TO_PASS and PASS_TO_PASS test passes, exit 0). With
 * one changed file the two are one run.
 */
import { gradeEvaluation } from "../harness/grade.ts";
import { type OutputParser, runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { CheckVerdict, ReasonCode } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

export interface InverseOptions {
  sandbox: Sandbox;
  image: string;
  evaluationScript: string;
  timeoutMs: number;
  parse: OutputParser;
}

const sections = (patch: string) =>
  patch.split(/^(?=diff --git )/m).filter((s) => s.startsWith("diff --git "));

const fileOf = (section: string) => /^diff --git a\/(.+?) b\//.exec(section)?.[1] ?? "?";

export async function synthInverseMutation(
  task: { patch: string; test_patch: string },
  lists: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] },
  o: InverseOptions,
): Promise<{ verdict: CheckVerdict; reason?: ReasonCode }> {
  const run = async (patch: string) => {
    const raw = await runStateRaw(o.sandbox, {
      image: o.image,
      patch,
      testPatch: task.test_patch,
      evaluationScript: o.evaluationScript,
      timeoutMs: o.timeoutMs,
    });
    return { raw, state: toStateRun("resolved", raw, o.parse) };
  };
  const verdict = (passed: boolean, reasons: string[]): CheckVerdict => ({
    check: "synth-inverse-mutation",
    kind: "dynamic",
    passed,
    reasons,
  });
  const parts = sections(task.patch);
  if (!parts.length)
    return { verdict: verdict(false, ["the gold patch changes no file"]), reason: "inverse_mutation_failed" };
  const reasons: string[] = [];
  let gold: ReturnType<typeof gradeEvaluation> | undefined;
  for (const part of parts) {
    const { raw, state } = await run(part);
    if (raw.apply !== "applied")
      return {
        verdict: verdict(false, [`undoing ${fileOf(part)} does not apply (${raw.apply})`]),
        reason: "patch_apply_failed",
      };
    const g = gradeEvaluation(lists, state);
    const fixed = g.tests_status.FAIL_TO_PASS.success.length;
    if (parts.length === 1) gold = g;
    if (!fixed)
      return {
        verdict: verdict(false, [
          `undoing ${fileOf(part)} alone makes none of the ${lists.FAIL_TO_PASS.length} failing tests pass`,
        ]),
        reason: "inverse_mutation_failed",
      };
    reasons.push(`undoing ${fileOf(part)} alone: ${fixed}/${lists.FAIL_TO_PASS.length} failing tests pass`);
  }
  if (!gold) gold = gradeEvaluation(lists, (await run(task.patch)).state);
  if (!gold.resolved)
    return {
      verdict: verdict(false, [...reasons, `the gold patch does not resolve: ${gold.detail}`]),
      reason: "resolved_fails",
    };
  return { verdict: verdict(true, [...reasons, "the gold patch resolves in the image"]) };
}
