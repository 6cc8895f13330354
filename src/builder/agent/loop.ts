import type { ChatMessage, Model, ToolCall, ToolSpec, Usage } from "../../model/model.ts";
import { ModelError } from "../../model/model.ts";

/** Limits of one agent run; whichever is reached first ends it. */
export interface Budget {
  maxTurns: number;
  maxTokens: number;
  maxWallMs: number;
  maxUsd: number;
}
export const DEFAULT_BUDGET: Budget = {
  maxTurns: 60,
  maxTokens: 2_000_000,
  maxWallMs: 45 * 60_000,
  maxUsd: 5,
};

/** What a tool call did: text for the model, and maybe the end of the run. */
export interface ToolResult<T> {
  content: string;
  /** The run succeeded with this value. */
  done?: T;
  /** The run cannot go on (a fault of the task, or too many failed submits). */
  stop?: { reason: string; detail: string };
}
export type Execute<T> = (
  name: string,
  args: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<ToolResult<T>>;

export type AgentEvent =
  | { type: "message"; message: ChatMessage; turn: number }
  | { type: "usage"; turn: number; usage: Usage; usd: number; totals: Totals }
  | { type: "end"; status: LoopStatus["status"]; detail: string; totals: Totals };

export interface Totals extends Usage {
  turns: number;
  usd: number;
  wallMs: number;
}

export type LoopStatus<T = unknown> =
  | { status: "done"; value: T }
  | { status: "stopped"; reason: string; detail: string }
  | { status: "budget"; detail: string }
  | { status: "model_error"; detail: string }
  | { status: "no_progress"; detail: string }
  | { status: "aborted"; detail: string };

export interface LoopOptions<T> {
  model: Model;
  tools: ToolSpec[];
  /** The system and first user messages. */
  messages: ChatMessage[];
  execute: Execute<T>;
  budget?: Partial<Budget>;
  signal?: AbortSignal;
  onEvent?: (e: AgentEvent) => void;
}

const NUDGE = "Continue with a tool call. When the environment works, call `submit`.";

/**
 * The agent loop: ask the model, run each tool call, append the results, until a tool says done or stop,
 * a budget runs out, the model fails, or the signal aborts. Every message is emitted as it is made.
 */
export async function runAgentLoop<T>(
  o: LoopOptions<T>,
): Promise<LoopStatus<T> & { messages: ChatMessage[]; totals: Totals }> {
  const budget = { ...DEFAULT_BUDGET, ...o.budget };
  const started = Date.now();
  const messages: ChatMessage[] = [];
  const totals: Totals = { turns: 0, prompt_tokens: 0, completion_tokens: 0, usd: 0, wallMs: 0 };
  const wall = AbortSignal.timeout(budget.maxWallMs);
  const signal = o.signal ? AbortSignal.any([o.signal, wall]) : wall;
  const push = (m: ChatMessage) => {
    messages.push(m);
    o.onEvent?.({ type: "message", message: m, turn: totals.turns });
  };
  const end = (s: LoopStatus<T>) => {
    totals.wallMs = Date.now() - started;
    const detail = s.status === "done" ? "" : s.detail;
    o.onEvent?.({ type: "end", status: s.status, detail, totals: { ...totals } });
    return { ...s, messages, totals };
  };
  const overBudget = (): string | undefined => {
    if (totals.turns >= budget.maxTurns) return `turn budget of ${budget.maxTurns} used up`;
    if (totals.prompt_tokens + totals.completion_tokens >= budget.maxTokens)
      return `token budget of ${budget.maxTokens} used up (${totals.prompt_tokens + totals.completion_tokens})`;
    if (totals.usd >= budget.maxUsd)
      return `money budget of $${budget.maxUsd} used up ($${totals.usd.toFixed(4)})`;
    if (Date.now() - started >= budget.maxWallMs)
      return `wall-time budget of ${budget.maxWallMs / 1000}s used up`;
    return undefined;
  };
  const stopped = () => (o.signal?.aborted ? end({ status: "aborted", detail: "aborted" }) : undefined);
  for (const m of o.messages) push(m);
  let idle = 0;
  let lastCall = "";
  let repeats = 0;
  for (;;) {
    const over = overBudget();
    if (over) return end({ status: "budget", detail: over });
    let reply: Awaited<ReturnType<Model["complete"]>>;
    try {
      reply = await o.model.complete(messages, { tools: o.tools, signal });
    } catch (e) {
      if (o.signal?.aborted) return end({ status: "aborted", detail: "aborted" });
      if (wall.aborted)
        return end({ status: "budget", detail: `wall-time budget of ${budget.maxWallMs / 1000}s used up` });
      return end({ status: "model_error", detail: e instanceof ModelError ? e.message : String(e) });
    }
    totals.turns++;
    totals.prompt_tokens += reply.usage.prompt_tokens;
    totals.completion_tokens += reply.usage.completion_tokens;
    totals.usd += reply.usd;
    o.onEvent?.({
      type: "usage",
      turn: totals.turns,
      usage: reply.usage,
      usd: reply.usd,
      totals: { ...totals },
    });
    push({
      role: "assistant",
      content: reply.content,
      ...(reply.tool_calls.length ? { tool_calls: reply.tool_calls } : {}),
    });
    if (!reply.tool_calls.length) {
      if (++idle >= 3)
        return end({ status: "no_progress", detail: "three answers in a row without a tool call" });
      push({ role: "user", content: NUDGE });
      continue;
    }
    idle = 0;
    for (const call of reply.tool_calls) {
      const key = `${call.name}\0${call.arguments}`;
      repeats = key === lastCall ? repeats + 1 : 1;
      lastCall = key;
      const r = await runCall(o, call, signal);
      const warn =
        repeats >= 3 ? `\n\n[note: this is the same call ${repeats} times in a row; try something else]` : "";
      push({ role: "tool", tool_call_id: call.id, content: r.content + warn });
      if (r.done !== undefined) return end({ status: "done", value: r.done });
      if (r.stop) return end({ status: "stopped", ...r.stop });
      const s = stopped();
      if (s) return s;
    }
  }
}

/** Parse and run one call; malformed JSON and unknown tools become feedback, not crashes. */
async function runCall<T>(o: LoopOptions<T>, call: ToolCall, signal: AbortSignal): Promise<ToolResult<T>> {
  if (!o.tools.some((t) => t.name === call.name))
    return {
      content: `error: no tool named "${call.name}"; the tools are ${o.tools.map((t) => t.name).join(", ")}`,
    };
  let args: unknown;
  try {
    args = call.arguments.trim() ? JSON.parse(call.arguments) : {};
  } catch (e) {
    return {
      content: `error: the arguments of ${call.name} are not valid JSON (${(e as Error).message}); call it again with one JSON object`,
    };
  }
  if (typeof args !== "object" || args === null || Array.isArray(args))
    return { content: `error: the arguments of ${call.name} must be a JSON object` };
  try {
    return await o.execute(call.name, args as Record<string, unknown>, signal);
  } catch (e) {
    return { content: `error: ${call.name} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
