/**
 * The statement an instance ships with, settled once validation has found FAIL_TO_PASS and the buggy runs'
 * messages:
 * 1. the mined statement (issue or PR text) is checked: the rule-based leak check always, the statement
 *    gate always, the LLM leak judge when a model is configured;
 * 2. with a model, a statement from the PR's own text, or one that leaks or says nothing, is written by the
 *    writer (src/statement/writer.ts) and checked the same way; a refused one goes back with the reasons, up
 *    to three tries; after that the original is kept, flagged `writer_failed`;
 * 3. without a model (or when the writer failed), a mined statement that passes the gate is kept (flagged
 *    `leaks` when it leaks); one that says nothing is replaced by a statement templated from the failing
 *    tests' messages (flagged `templated`); when there is none to make, the instance is rejected
 *    (`vague_problem_statement`).
 * The original is kept beside a written statement; the source is `issue`, `pr` or `written`.
 */

import { type FixFacts, fixFacts, gateVerdict, leakFindings } from "../checks/statement.ts";
import { type Model, ModelError } from "../model/model.ts";
import type { Instance, StatementFlag, StatementReport, Task } from "../records/index.ts";
import { templatedStatement } from "./template.ts";
import { judgeStatement, type ModelSpend, writerMessages, writeStatement } from "./writer.ts";

export interface SettleOptions {
  /** The writer's and the leak judge's model; without one, statements are kept or templated. */
  model?: Model;
  /** Statements the writer may write (default 3). */
  attempts?: number;
  signal?: AbortSignal;
}

export type Settled =
  | { ok: true; instance: Instance }
  | { ok: false; reason: "vague_problem_statement"; detail: string };

type TaskText = Pick<Task, "code_files" | "problem_statement_source"> & Partial<Pick<Task, "pr_text">>;

interface Spend {
  prompt_tokens: number;
  completion_tokens: number;
  usd: number;
}

const add = (s: Spend, x: ModelSpend) => {
  s.prompt_tokens += x.usage.prompt_tokens;
  s.completion_tokens += x.usage.completion_tokens;
  s.usd += x.usd;
};

/** What is wrong with a statement: the rules, the gate, then (with a model) the leak judge. */
async function problemsOf(
  text: string,
  facts: FixFacts,
  x: { model?: Model; patch: string; spend: Spend; signal?: AbortSignal },
): Promise<string[]> {
  if (!text.trim()) return ["the statement is empty"];
  const problems = leakFindings(text, facts);
  const gate = gateVerdict(text);
  if (gate !== "ok") problems.push(`it says nothing about the behaviour (${gate})`);
  if (problems.length || !x.model) return problems;
  const j = await judgeStatement(x.model, { statement: text, patch: x.patch }, x.signal);
  add(x.spend, j);
  return j.leaks ? j.reasons.map((r) => `the leak judge: ${r}`) : [];
}

/** The writer's loop: a statement that passes every check, or undefined after `attempts` refusals. */
async function written(
  inst: Instance,
  task: TaskText,
  facts: FixFacts,
  report: StatementReport,
  x: { model: Model; attempts: number; spend: Spend; signal?: AbortSignal },
): Promise<string | undefined> {
  const issueText = task.problem_statement_source === "issue" ? inst.problem_statement : undefined;
  const prText = task.pr_text ?? (issueText ? "" : inst.problem_statement);
  const messages = writerMessages({
    repo: inst.repo,
    issueText,
    prText,
    patch: inst.patch,
    failToPass: inst.FAIL_TO_PASS,
  });
  for (let i = 1; i <= x.attempts; i++) {
    const w = await writeStatement(x.model, messages, x.signal);
    add(x.spend, w);
    report.attempts++;
    const problems = await problemsOf(w.text, facts, { ...x, patch: inst.patch });
    if (!problems.length) return w.text;
    report.refused.push(`attempt ${i}: ${problems.join("; ")}`);
    messages.push(
      { role: "assistant", content: w.text || "(empty)" },
      {
        role: "user",
        content: `Refused: ${problems.join("; ")}. Write the statement again without giving the fix away.`,
      },
    );
  }
  return undefined;
}

export async function settleStatement(
  inst: Instance,
  task: TaskText,
  o: SettleOptions = {},
): Promise<Settled> {
  const facts = fixFacts(
    { patch: inst.patch, test_patch: inst.test_patch, code_files: task.code_files },
    inst.FAIL_TO_PASS,
  );
  const original = inst.problem_statement;
  const source = task.problem_statement_source;
  const report: StatementReport = {
    original_source: source,
    flags: [],
    original_leaks: leakFindings(original, facts),
    original_gate: gateVerdict(original),
    leaks: [],
    attempts: 0,
    refused: [],
  };
  const spend: Spend = { prompt_tokens: 0, completion_tokens: 0, usd: 0 };
  const finish = (text: string, how: "written" | "kept", flags: StatementFlag[]): Settled => {
    const leaks = leakFindings(text, facts);
    const all = [...new Set([...report.flags, ...flags, ...(leaks.length ? ["leaks" as const] : [])])];
    const cost = {
      ...inst.cost,
      prompt_tokens: inst.cost.prompt_tokens + spend.prompt_tokens,
      completion_tokens: inst.cost.completion_tokens + spend.completion_tokens,
      usd: inst.cost.usd + spend.usd,
    };
    const statement = { ...report, flags: all, leaks };
    if (how === "kept")
      return { ok: true, instance: { ...inst, problem_statement_source: source, statement, cost } };
    return {
      ok: true,
      instance: {
        ...inst,
        problem_statement: text,
        problem_statement_source: "written",
        original_problem_statement: original,
        statement,
        cost,
      },
    };
  };
  let judgeLeak = false;
  try {
    if (o.model) {
      let needs = source === "pr" || report.original_leaks.length > 0 || report.original_gate !== "ok";
      if (!needs) {
        const j = await judgeStatement(o.model, { statement: original, patch: inst.patch }, o.signal);
        add(spend, j);
        judgeLeak = needs = j.leaks;
        if (j.leaks)
          report.refused.push(`original: ${j.reasons.map((r) => `the leak judge: ${r}`).join("; ")}`);
      }
      if (needs) {
        const text = await written(inst, task, facts, report, {
          model: o.model,
          attempts: o.attempts ?? 3,
          spend,
          signal: o.signal,
        });
        if (text) return finish(text, "written", []);
        report.flags.push("writer_failed");
      }
    }
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    report.refused.push(`the model failed: ${e.message}`);
    report.flags.push("writer_failed");
  }
  if (report.original_gate === "ok") return finish(original, "kept", judgeLeak ? ["judge_leak"] : []);
  const firstLine = original.split("\n")[0];
  const t = templatedStatement({ repo: inst.repo, runs: inst.validation.runs, title: firstLine }, facts);
  if (t) return finish(t, "written", ["templated"]);
  return {
    ok: false,
    reason: "vague_problem_statement",
    detail: `the statement says nothing about the behaviour (${report.original_gate}), and the failing tests printed no message to write one from`,
  };
}
