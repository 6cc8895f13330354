/**
 * The PR quality filter, before any build (SWE-rebench's LLM checks, SWE-Universe's quality judge): rules
 * that need no model, and LLM checks when a model is configured (is the problem clear, is the fix
 * self-contained, do the tests check the described behaviour). Each verdict is a named rejection or a score
 * in [0, 1], recorded on the task and carried into the dataset (`quality`).
 */

import { gateVerdict, RELEASE_TITLE } from "../checks/statement.ts";
import type { Model, ToolSpec } from "../model/model.ts";
import { ModelError } from "../model/model.ts";
import type { QualityCheck, ReasonCode, Task } from "../records/index.ts";

export interface QualityVerdict {
  quality: NonNullable<Task["quality"]>;
  rejection?: { reason: ReasonCode; detail: string };
  /** Model tokens and money the LLM checks spent. */
  usage?: { prompt_tokens: number; completion_tokens: number; usd: number };
}

type Sections = { path: string; added: number; removed: number; lines: string[] }[];

function sections(patch: string): Sections {
  return patch
    .split(/^(?=diff --git )/m)
    .map((s) => {
      const lines = s.split("\n");
      const count = (c: string) =>
        lines.filter((l) => l.startsWith(c) && !l.startsWith(`${c}${c}${c} `)).length;
      return {
        path: /^diff --git a\/.+? b\/(.+)$/m.exec(s)?.[1] ?? "",
        added: count("+"),
        removed: count("-"),
        lines,
      };
    })
    .filter((s) => s.path);
}

const dirOf = (p: string) => p.split("/").slice(0, -1).join("/") || ".";
const CODE_EXT =
  /\.(py|pyi|js|jsx|mjs|cjs|ts|tsx|mts|cts|go|rs|java|kt|scala|c|cc|cpp|cxx|h|hpp|cs|rb|php|swift)$/;

/** The PR's title: its text's first line. */
export function prTitle(
  task: Pick<Task, "pr_text" | "problem_statement" | "problem_statement_source">,
): string {
  const text = task.pr_text ?? (task.problem_statement_source === "pr" ? task.problem_statement : "");
  return text.split("\n")[0]!.trim();
}

/** A rule: a score in [0, 1] with a note, or a rejection. */
type Rule = (t: Task) => QualityCheck & { reject?: ReasonCode };

/** The rules, a table: a new rule is one entry. */
const RULES: Record<string, Rule> = {
  release: (t) => {
    const title = prTitle(t);
    return RELEASE_TITLE.test(title)
      ? {
          check: "release",
          kind: "rule",
          score: 0,
          detail: `a release or branch-merge PR: ${JSON.stringify(title)}`,
          reject: "release_pr",
        }
      : { check: "release", kind: "rule", score: 1, detail: "not a release or branch merge" };
  },
  fix_size: (t) => {
    const code = new Set(t.code_files);
    const n = sections(t.patch)
      .filter((s) => code.has(s.path))
      .reduce((k, s) => k + s.added + s.removed, 0);
    // 1 up to 50 changed lines, 0 from 1000 on, on a log scale between.
    const score = n <= 50 ? 1 : n >= 1000 ? 0 : 1 - Math.log(n / 50) / Math.log(20);
    return { check: "fix_size", kind: "rule", score: round(score), detail: `${n} changed lines of code` };
  },
  fix_spread: (t) => {
    const dirs = new Set(t.code_files.map(dirOf));
    const score = Math.max(0, 1 - (dirs.size - 1) * 0.25);
    return {
      check: "fix_spread",
      kind: "rule",
      score,
      detail: `code in ${dirs.size} director${dirs.size === 1 ? "y" : "ies"}`,
    };
  },
  tests_exercise: (t) => {
    const code = sections(t.test_patch).filter((s) => CODE_EXT.test(s.path) && s.added > 0);
    return code.length
      ? {
          check: "tests_exercise",
          kind: "rule",
          score: 1,
          detail: `${code.length} test file(s) with new test code`,
        }
      : {
          check: "tests_exercise",
          kind: "rule",
          score: 0.5,
          detail: "the test patch adds no test code (data or fixtures only)",
        };
  },
  statement: (t) => {
    const g = gateVerdict(t.problem_statement);
    const linked = t.problem_statement_source === "issue";
    const score = (g === "ok" ? 1 : 0.3) * (linked ? 1 : 0.8);
    return {
      check: "statement",
      kind: "rule",
      score: round(score),
      detail: `${linked ? "from the linked issues" : "from the PR's own text"}; gate: ${g}`,
    };
  },
};

const round = (x: number) => Math.round(x * 100) / 100;

const QUALITY_TOOL: ToolSpec = {
  name: "report_quality",
  description: "Rate the pull request as a software-engineering task.",
  parameters: {
    type: "object",
    properties: {
      problem_clear: {
        type: "integer",
        minimum: 1,
        maximum: 5,
        description: "1: the problem cannot be made out; 5: clear",
      },
      fix_self_contained: {
        type: "integer",
        minimum: 1,
        maximum: 5,
        description:
          "1: the fix bundles unrelated changes or depends on outside context; 5: one self-contained change",
      },
      tests_check_behaviour: {
        type: "integer",
        minimum: 1,
        maximum: 5,
        description: "1: the tests do not check the described behaviour; 5: they check exactly it",
      },
      reasons: { type: "array", items: { type: "string" } },
    },
    required: ["problem_clear", "fix_self_contained", "tests_check_behaviour", "reasons"],
  },
};

/** LLM check name, the tool field it reads, and the rejection when it scores 1 of 5. */
const LLM_CHECKS: [string, string, ReasonCode][] = [
  ["problem_clear", "problem_clear", "unclear_problem"],
  ["fix_self_contained", "fix_self_contained", "not_self_contained"],
  ["tests_check_behaviour", "tests_check_behaviour", "tests_unrelated"],
];

const SYSTEM = `You rate merged pull requests as software-engineering tasks for coding agents: the agent gets a problem
statement and the repository before the change, and its patch is graded by the PR's tests. Judge whether the problem
can be made out from the text (an issue, else the PR's own text), whether the fix is one self-contained change, and
whether the tests check the behaviour described. Answer only by calling report_quality.`;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}\n… (cut)` : s);

async function llmChecks(t: Task, model: Model, signal?: AbortSignal) {
  const user = [
    `Repository: ${t.repo}`,
    "## Problem statement",
    cut(t.problem_statement || "(none)", 6000),
    ...(t.pr_text && t.pr_text !== t.problem_statement ? ["## Pull request text", cut(t.pr_text, 4000)] : []),
    "## The fix",
    "```diff",
    cut(t.patch, 10_000),
    "```",
    "## The tests",
    "```diff",
    cut(t.test_patch, 8000),
    "```",
  ].join("\n");
  const reply = await model.complete(
    [
      { role: "system", content: SYSTEM },
      { role: "user", content: user },
    ],
    { tools: [QUALITY_TOOL], toolChoice: QUALITY_TOOL.name, signal, temperature: 0 },
  );
  const raw = reply.tool_calls.find((c) => c.name === QUALITY_TOOL.name)?.arguments ?? reply.content ?? "";
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(/\{[\s\S]*\}/.exec(raw)?.[0] ?? "") as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const reasons = Array.isArray(parsed?.reasons) ? parsed.reasons.map(String).join("; ") : "";
  const checks: (QualityCheck & { reject?: ReasonCode })[] = [];
  for (const [name, field, reason] of LLM_CHECKS) {
    const v = Number(parsed?.[field]);
    if (!Number.isInteger(v) || v < 1 || v > 5) continue;
    checks.push({
      check: name,
      kind: "llm",
      score: (v - 1) / 4,
      detail: `${v}/5${reasons ? `: ${reasons}` : ""}`,
      ...(v === 1 ? { reject: reason } : {}),
    });
  }
  if (!checks.length)
    checks.push({
      check: "llm",
      kind: "llm",
      score: 0.5,
      detail: `unreadable answer: ${JSON.stringify(raw.slice(0, 120))}`,
    });
  return { checks, usage: { ...reply.usage, usd: reply.usd } };
}

/**
 * The filter on one task: the rules always, the LLM checks with a model (a model that cannot answer leaves
 * a note, not a rejection). The first rejection found names the task's fall.
 */
export async function assessQuality(
  t: Task,
  o: { model?: Model; signal?: AbortSignal } = {},
): Promise<QualityVerdict> {
  const checks = Object.values(RULES).map((r) => r(t));
  let usage: QualityVerdict["usage"];
  if (o.model && !checks.some((c) => c.reject)) {
    try {
      const l = await llmChecks(t, o.model, o.signal);
      checks.push(...l.checks);
      usage = {
        prompt_tokens: l.usage.prompt_tokens,
        completion_tokens: l.usage.completion_tokens,
        usd: l.usage.usd,
      };
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      checks.push({ check: "llm", kind: "llm", score: 0.5, detail: `the model failed: ${e.message}` });
    }
  }
  const first = checks.find((c) => c.reject);
  const quality = {
    score: round(checks.reduce((s, c) => s + c.score, 0) / checks.length),
    checks: checks.map(({ reject: _r, ...c }) => c),
    ...(usage ? { cost: usage } : {}),
  };
  return {
    quality,
    ...(first ? { rejection: { reason: first.reject!, detail: `${first.check}: ${first.detail}` } } : {}),
    ...(usage ? { usage } : {}),
  };
}
