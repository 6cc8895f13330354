import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parserFor } from "../harness/parse-run.ts";
import { hasParser } from "../harness/parsers/index.ts";
import { patchFiles, presentTestFiles } from "../harness/run-state.ts";
import type { Model } from "../model/model.ts";
import type { CheckVerdict, Task } from "../records/index.ts";
import type { Limits, Sandbox } from "../sandbox/sandbox.ts";
import { evidence, GATES, type GateResult, runGate } from "./gate.ts";
import type { Convention } from "./outcome.ts";
import { DECISIVE_RULES } from "./static.ts";
import type { Evidence } from "./types.ts";

/** What an audit needs: the verifier and the task it claims to verify. */
export interface AuditInput {
  instance_id: string;
  patch: string;
  test_patch: string;
  code_files: string[];
  evaluation_script: string;
  /** owner/name of the repository, when the folder says (fetching it is fetching the fix). */
  repo?: string;
  /** The PR's title or the statement's first line (the git probe writes it into a commit). */
  title?: string;
  /** The log parser of an instance's own evaluation.sh, when the folder names one. */
  parser?: string;
}

/**
 * honest: nothing decisive, the baseline and every probe behaved as an honest verifier does;
 * hacked: a decisive static rule, or a behaviour probe caught it; broken: it does not fail buggy and pass
 * resolved (it cannot reward a fix; hacking is beside the point); suspect: static evidence and no image
 * to weigh it with behaviour.
 */
export type AuditVerdict = "honest" | "hacked" | "broken" | "suspect";

/** A static rule that fired as evidence, and the probes whose failure bears it out. */
export interface StaticEvidence {
  check: string;
  reasons: string[];
  confirmed_by: string[];
}

export interface AuditReport {
  instance_id: string;
  verdict: AuditVerdict;
  /** Why, in a few lines: the checks that decided. */
  because: string[];
  /** How the verifier reports, as its baseline showed. */
  convention?: Convention;
  checks: CheckVerdict[];
  /** Static rules that fired without deciding. */
  evidence: StaticEvidence[];
  /** Checks that could not run, and why (no image, no model, a broken baseline). */
  skipped: string[];
}

/** Probes that test what each evidence rule saw. */
const CONFIRMS: Record<string, readonly string[]> = {
  "static:reads-source": ["comment-probe", "poison-probe", "stub-probe", "rewrite-probe", "inverse-mutation"],
  "static:git-state": ["git-probe", "comment-probe"],
  "static:tests-tampered": ["no-tests-probe", "baseline"],
  "static:no-runner": ["no-tests-probe", "poison-probe", "stub-probe"],
  "static:modifies-source": ["comment-probe", "poison-probe", "stub-probe", "baseline"],
  "static:swallowed-failure": ["baseline", "poison-probe"],
  "static:unconditional-exit": ["baseline"],
  "static:prints-results": ["baseline", "poison-probe"],
  "static:applies-patch": ["baseline", "comment-probe"],
  "static:network": ["baseline"],
};

const str = (rec: Record<string, unknown>, k: string) =>
  typeof rec[k] === "string" ? (rec[k] as string) : "";

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
  const script = scriptPath
    ? readFileSync(scriptPath, "utf8")
    : existsSync(join(dir, "evaluation.sh"))
      ? readFileSync(join(dir, "evaluation.sh"), "utf8")
      : str(rec, "evaluation_script");
  if (!script.trim()) {
    const where = scriptPath ?? join(dir, "evaluation.sh");
    throw new Error(
      scriptPath || existsSync(where)
        ? `the verifier ${where} is empty`
        : `no verifier: ${dir} has no evaluation.sh; pass --script FILE`,
    );
  }
  const patch = str(rec, "patch");
  if (!str(rec, "instance_id") || !patch) throw new Error(`${tj} lacks instance_id or patch`);
  const test = presentTestFiles({ test_patch: str(rec, "test_patch") } as Task);
  const code = Array.isArray(rec.code_files)
    ? (rec.code_files as unknown[]).map(String)
    : patchFiles(patch).filter((f) => !test.includes(f));
  const title = str(rec, "title") || str(rec, "problem_statement").split("\n")[0]!.trim();
  const parser = str(rec, "parser");
  return {
    instance_id: str(rec, "instance_id"),
    patch,
    test_patch: str(rec, "test_patch"),
    code_files: code,
    evaluation_script: script,
    ...(str(rec, "repo") ? { repo: str(rec, "repo") } : {}),
    ...(title ? { title: title.slice(0, 200) } : {}),
    // An instance's own parser reads its own script's output; a foreign script's is found from its output.
    ...(parser && hasParser(parser) && !scriptPath ? { parser } : {}),
  };
}

/** Audit limits: a verifier cannot exhaust the machine (a fork bomb meets the pids limit, a leak the memory). */
export const AUDIT_LIMITS: Limits = { pids: 1024, memory: "4g" };

/**
 * Every hacking check on one verifier (the audit gate, run to the end): static rules always; with an image
 * the baseline, then the behaviour probes; the judge with a model. The verdict weighs them (`decide`).
 */
export async function auditVerifier(
  a: AuditInput,
  o: { sandbox?: Sandbox; image?: string; model?: Model; timeoutMs?: number; limits?: Limits } = {},
): Promise<AuditReport> {
  const e = evidence({
    task: { instance_id: a.instance_id, patch: a.patch, test_patch: a.test_patch, code_files: a.code_files },
    testFiles: presentTestFiles({ test_patch: a.test_patch }),
    evaluationScript: a.evaluation_script,
    parser: a.parser ?? "",
    image: o.sandbox ? o.image : undefined,
    files: [...new Set([...patchFiles(a.patch), ...patchFiles(a.test_patch)])],
    ...(a.repo ? { repo: a.repo } : {}),
    ...(a.title ? { title: a.title } : {}),
  });
  const g = await runGate(GATES.audit, e, {
    sandbox: o.sandbox,
    parserFor,
    model: o.model,
    testTimeoutMs: o.timeoutMs ?? 600_000,
    limits: o.limits ?? AUDIT_LIMITS,
    keepGoing: true,
  });
  return { instance_id: a.instance_id, ...decide(g, e, a.code_files) };
}

const firstReason = (v: CheckVerdict) => `${v.check}: ${v.reasons.find((r) => !r.startsWith("note:")) ?? ""}`;

/** Weigh the checks into a verdict (see AuditVerdict). */
export function decide(
  g: Pick<GateResult, "verdicts" | "skipped">,
  e: Pick<Evidence, "baseline" | "unneeded">,
  codeFiles: string[],
): Omit<AuditReport, "instance_id"> {
  const failed = g.verdicts.filter((v) => !v.passed);
  const isStatic = (v: CheckVerdict) => v.kind === "static";
  const decisive = failed.filter((v) => DECISIVE_RULES.has(v.check));
  const evidenceRules = failed.filter((v) => isStatic(v) && !DECISIVE_RULES.has(v.check));
  const behaviour = failed.filter((v) => !isStatic(v) && v.check !== "baseline");
  const evidence: StaticEvidence[] = evidenceRules.map((v) => ({
    check: v.check,
    reasons: v.reasons,
    confirmed_by: (CONFIRMS[v.check] ?? []).filter((c) => failed.some((f) => f.check === c)),
  }));
  const base = {
    checks: g.verdicts,
    evidence,
    skipped: g.skipped,
    ...(e.baseline?.convention ? { convention: e.baseline.convention } : {}),
  };
  if (decisive.length) return { ...base, verdict: "hacked", because: decisive.map(firstReason) };
  if (e.baseline && !e.baseline.ok)
    return {
      ...base,
      verdict: "broken",
      because: [...e.baseline.reasons, ...evidenceRules.map(firstReason)],
    };
  if (behaviour.length) {
    const closed = behaviour.every((v) => v.reasons.every((r) => r.startsWith("inconclusive twice")));
    return { ...base, verdict: closed ? "broken" : "hacked", because: behaviour.map(firstReason) };
  }
  // Together with behaviour: a fix file whose revert the verifier passes, while its text reads another.
  const reads = evidenceRules.filter((v) => /reads-source|git-state|modifies-source/.test(v.check));
  for (const u of e.unneeded ?? []) {
    const other = codeFiles.find(
      (f) => f !== u.path && reads.some((v) => v.reasons.some((r) => r.includes(f))),
    );
    if (other)
      return {
        ...base,
        verdict: "hacked",
        because: [
          `inverse-mutation: passes with ${u.path} reverted, while it reads ${other} (${reads.map(firstReason).join("; ")})`,
        ],
      };
  }
  if (!e.baseline && evidenceRules.length)
    return {
      ...base,
      verdict: "suspect",
      because: [...evidenceRules.map(firstReason), "no image: no probe could weigh this"],
    };
  return { ...base, verdict: "honest", because: [] };
}
