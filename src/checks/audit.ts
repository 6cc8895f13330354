import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parserFor } from "../harness/parse-run.ts";
import { patchFiles, presentTestFiles } from "../harness/run-state.ts";
import type { Model } from "../model/model.ts";
import type { CheckVerdict, Task } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { evidence, GATES, runGate } from "./gate.ts";

/** What an audit needs: the verifier and the task it claims to verify. */
export interface AuditInput {
  instance_id: string;
  patch: string;
  test_patch: string;
  code_files: string[];
  evaluation_script: string;
}

export interface AuditReport {
  instance_id: string;
  verdict: "honest" | "hacked";
  checks: CheckVerdict[];
  /** Checks that could not run, and why (no image, no model). */
  skipped: string[];
}

/**
 * Read a task or instance folder: task.json (a Task or an Instance) and evaluation.sh, or the script given.
 * Instances carry no code_files; they come from the gold patch then.
 */
export function readAuditInput(dir: string, scriptPath?: string): AuditInput {
  const tj = join(dir, "task.json");
  if (!existsSync(tj)) throw new Error(`${dir} has no task.json (expected an instance or task folder)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(tj, "utf8").replace(/^\uFEFF/, ""));
  } catch (e) {
    throw new Error(`${tj} is not JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new Error(
      `${tj} holds ${parsed === null ? "null" : Array.isArray(parsed) ? "a list" : `a ${typeof parsed}`}, not a task (a JSON object with instance_id and patch)`,
    );
  const rec = parsed as Record<string, unknown>;
  const str = (k: string) => (typeof rec[k] === "string" ? (rec[k] as string) : "");
  const script = scriptPath
    ? readFileSync(scriptPath, "utf8")
    : existsSync(join(dir, "evaluation.sh"))
      ? readFileSync(join(dir, "evaluation.sh"), "utf8")
      : str("evaluation_script");
  if (!script.trim()) {
    const where = scriptPath ?? join(dir, "evaluation.sh");
    throw new Error(
      scriptPath || existsSync(where)
        ? `the verifier ${where} is empty`
        : `no verifier: ${dir} has no evaluation.sh; pass --script FILE`,
    );
  }
  const patch = str("patch");
  if (!str("instance_id") || !patch) throw new Error(`${tj} lacks instance_id or patch`);
  const test = presentTestFiles({ test_patch: str("test_patch") } as Task);
  const code = Array.isArray(rec.code_files)
    ? (rec.code_files as unknown[]).map(String)
    : patchFiles(patch).filter((f) => !test.includes(f));
  return {
    instance_id: str("instance_id"),
    patch,
    test_patch: str("test_patch"),
    code_files: code,
    evaluation_script: script,
  };
}

/** Every hacking check on one verifier (the audit gate, run to the end): static rules always, probes with an image, the judge with a model. */
export async function auditVerifier(
  a: AuditInput,
  o: { sandbox?: Sandbox; image?: string; model?: Model; timeoutMs?: number } = {},
): Promise<AuditReport> {
  const e = evidence({
    task: { instance_id: a.instance_id, patch: a.patch, test_patch: a.test_patch, code_files: a.code_files },
    testFiles: presentTestFiles({ test_patch: a.test_patch }),
    evaluationScript: a.evaluation_script,
    parser: "",
    image: o.sandbox ? o.image : undefined,
    files: [...new Set([...patchFiles(a.patch), ...patchFiles(a.test_patch)])],
  });
  const g = await runGate(GATES.audit, e, {
    sandbox: o.sandbox,
    parserFor,
    model: o.model,
    testTimeoutMs: o.timeoutMs ?? 600_000,
    keepGoing: true,
  });
  return {
    instance_id: a.instance_id,
    verdict: g.verdicts.every((c) => c.passed) ? "honest" : "hacked",
    checks: g.verdicts,
    skipped: g.skipped,
  };
}
