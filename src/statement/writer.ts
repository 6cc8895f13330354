/**
 * The problem-statement writer and the LLM leak judge, through the Model seam (any OpenAI-compatible
 * endpoint). The writer reads the issue text, the PR text, the gold patch and FAIL_TO_PASS, and writes the
 * statement a user who hit the problem would file, without handing over the fix (Scale-SWE's Problem
 * Statement Writer); the judge says whether a statement gives the solution or its location away.
 */
import type { ChatMessage, Model, ToolSpec, Usage } from "../model/model.ts";

export interface WriterInput {
  repo: string;
  /** The linked issues' text, when there is one. */
  issueText?: string;
  /** The PR's title and body. */
  prText: string;
  patch: string;
  failToPass: readonly string[];
}

export interface ModelSpend {
  usage: Usage;
  usd: number;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}\n… (cut)` : s);

const WRITER_SYSTEM = `You write the problem statement of a software-engineering task: the GitHub issue a user who hit the
problem would file, for a developer who will fix it without seeing the fix. Say what goes wrong or what is missing,
how to see it (a short example of use, the output it gives and the output expected), and what should happen.
You are shown the issue and pull-request text, the fix and the tests that check it, so that the statement is accurate.
It must not give the solution or its location away:
- do not name the files the fix changes;
- do not name functions, variables, classes or other identifiers the fix introduces (names the tests call, the public
  API under test, may be named);
- do not quote or paraphrase the fix's code, and do not describe how to implement it;
- do not name the tests.
Reply with the statement only, in Markdown, with no preamble.`;

/** The writer's first request. */
export function writerMessages(x: WriterInput): ChatMessage[] {
  const user = [
    `Repository: ${x.repo}`,
    "## Issue",
    x.issueText?.trim() ? cut(x.issueText, 6000) : "(no linked issue)",
    "## Pull request",
    cut(x.prText || "(no text)", 6000),
    "## The fix (gold patch; do not reveal it)",
    "```diff",
    cut(x.patch, 12_000),
    "```",
    "## Tests that fail before the fix and pass after it (do not name them)",
    x.failToPass.slice(0, 30).join("\n") || "(none)",
  ].join("\n");
  return [
    { role: "system", content: WRITER_SYSTEM },
    { role: "user", content: user },
  ];
}

/** One written statement (the conversation so far, refusals included), trimmed; "" when the model gave none. */
export async function writeStatement(
  model: Model,
  messages: ChatMessage[],
  signal?: AbortSignal,
): Promise<{ text: string } & ModelSpend> {
  const reply = await model.complete(messages, { signal, temperature: 0.2 });
  const text = (reply.content ?? "").replace(/^```(?:markdown|md)?\n([\s\S]*?)\n```\s*$/, "$1").trim();
  return { text, usage: reply.usage, usd: reply.usd };
}

const LEAK_TOOL: ToolSpec = {
  name: "report_statement_leak",
  description: "Report whether the problem statement gives the solution or its location away.",
  parameters: {
    type: "object",
    properties: {
      leaks: {
        type: "boolean",
        description: "true when the statement gives the solution or its location away",
      },
      reasons: { type: "array", items: { type: "string" }, description: "one short reason per finding" },
    },
    required: ["leaks", "reasons"],
  },
};

const JUDGE_SYSTEM = `You check the problem statements of software-engineering tasks. A developer gets the statement and the
repository, not the fix. A statement LEAKS when it gives the solution or its location away: it names the files or
functions to change, quotes or paraphrases the fix's code, describes how to implement it, or names the tests that
check it. Describing the wrong behaviour, how to see it and what is expected, and naming the public API the tests
call, is not a leak. Answer only by calling report_statement_leak.`;

/** The LLM leak judge on one statement; an answer that cannot be read counts as no leak, with a note. */
export async function judgeStatement(
  model: Model,
  x: { statement: string; patch: string },
  signal?: AbortSignal,
): Promise<{ leaks: boolean; reasons: string[] } & ModelSpend> {
  const reply = await model.complete(
    [
      { role: "system", content: JUDGE_SYSTEM },
      {
        role: "user",
        content: `## Statement\n${cut(x.statement, 8000)}\n## The fix (not shown to the developer)\n\`\`\`diff\n${cut(x.patch, 12_000)}\n\`\`\``,
      },
    ],
    { tools: [LEAK_TOOL], toolChoice: LEAK_TOOL.name, signal, temperature: 0 },
  );
  const raw = reply.tool_calls.find((c) => c.name === LEAK_TOOL.name)?.arguments ?? reply.content ?? "";
  const spend = { usage: reply.usage, usd: reply.usd };
  try {
    const p = JSON.parse(/\{[\s\S]*\}/.exec(raw)?.[0] ?? "") as { leaks?: unknown; reasons?: unknown };
    if (typeof p.leaks === "boolean")
      return { leaks: p.leaks, reasons: Array.isArray(p.reasons) ? p.reasons.map(String) : [], ...spend };
  } catch {}
  return {
    leaks: false,
    reasons: [`unreadable judge answer: ${JSON.stringify(raw.slice(0, 120))}`],
    ...spend,
  };
}
