import { afterEach, describe, expect, it } from "vitest";
import { type AgentEvent, runAgentLoop, type ToolResult } from "../../../src/builder/agent/loop.ts";
import type { ToolSpec } from "../../../src/model/model.ts";
import { OpenAIModel } from "../../../src/model/openai.ts";
import { FakeOpenAI, type Turn } from "../../helpers/fake-openai.ts";

const TOOLS: ToolSpec[] = [
  {
    name: "echo",
    description: "echo",
    parameters: { type: "object", properties: { text: { type: "string" } } },
  },
  { name: "finish", description: "done", parameters: { type: "object", properties: {} } },
];

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function run(turns: Turn[], budget = {}, o: { signal?: AbortSignal; price?: number } = {}) {
  server = await FakeOpenAI.start(turns);
  const model = new OpenAIModel({
    baseURL: server.url,
    model: "m",
    maxRetries: 0,
    timeoutMs: 2000,
    pricePerMInput: o.price ?? 0,
  });
  const events: AgentEvent[] = [];
  const r = await runAgentLoop({
    model,
    tools: TOOLS,
    messages: [
      { role: "system", content: "s" },
      { role: "user", content: "u" },
    ],
    budget,
    signal: o.signal,
    onEvent: (e) => events.push(e),
    execute: async (name, args): Promise<ToolResult<string>> =>
      name === "finish" ? { content: "bye", done: "finished" } : { content: `echo: ${String(args.text)}` },
  });
  return { r, events, server };
}

describe("agent loop", () => {
  it("runs tools until one says done and emits every message", async () => {
    const { r, events } = await run([
      { calls: [{ name: "echo", arguments: { text: "a" } }] },
      { calls: [{ name: "finish", arguments: {} }] },
    ]);
    expect(r.status).toBe("done");
    if (r.status === "done") expect(r.value).toBe("finished");
    expect(r.messages.map((m) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
    expect(events.filter((e) => e.type === "message").length).toBe(6);
    expect(r.totals).toMatchObject({ turns: 2, prompt_tokens: 200, completion_tokens: 40 });
  });

  it("answers malformed JSON, unknown tools and repeats with feedback, then stops a model that only talks", async () => {
    const same = { calls: [{ name: "echo", arguments: { text: "x" } }] };
    const { r, server } = await run([
      { calls: [{ name: "echo", arguments: '{"text": "unterminated' }] },
      { calls: [{ name: "rm_rf", arguments: {} }] },
      { calls: [{ name: "echo", arguments: "[1,2]" }] },
      same,
      same,
      same,
      { content: "thinking" },
      { content: "still thinking" },
      { content: "hmm" },
    ]);
    expect(r.status).toBe("no_progress");
    const tools = r.messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(tools[0]).toMatch(/not valid JSON/);
    expect(tools[1]).toMatch(/no tool named "rm_rf"; the tools are echo, finish/);
    expect(tools[2]).toMatch(/must be a JSON object/);
    expect(tools[5]).toMatch(/same call 3 times in a row/);
    expect(
      r.messages.filter((m) => m.role === "user" && /Continue with a tool call/.test(m.content)).length,
    ).toBe(2);
    // The model saw the feedback: the request after the malformed call carries it.
    expect(JSON.stringify(server.requests[1]!.messages)).toMatch(/not valid JSON/);
  });

  it("stops at the turn, token and money budgets", async () => {
    const loop = Array.from({ length: 20 }, () => ({
      calls: [{ name: "echo", arguments: { text: "again" } }],
    }));
    const turns = await run(loop, { maxTurns: 3 });
    expect(turns.r.status).toBe("budget");
    expect(turns.r.totals.turns).toBe(3);
    expect(turns.r.status === "budget" && turns.r.detail).toMatch(/turn budget of 3/);
    await server?.close();
    const tokens = await run(loop, { maxTokens: 500 });
    expect(tokens.r.status === "budget" && tokens.r.detail).toMatch(/token budget/);
    expect(tokens.r.totals.turns).toBe(5); // 120 tokens a turn
    await server?.close();
    const money = await run(loop, { maxUsd: 0.001 }, { price: 4 }); // 100 prompt tokens at $4/M = $0.0004 a turn
    expect(money.r.status === "budget" && money.r.detail).toMatch(/money budget/);
    expect(money.r.totals.turns).toBe(3);
  });

  it("ends with model_error when the server fails or goes silent, and on the wall-time budget", async () => {
    const err = await run([{ status: 500 }]);
    expect(err.r.status).toBe("model_error");
    expect(err.r.status === "model_error" && err.r.detail).toMatch(/HTTP 500/);
    await server?.close();
    const silent = await run([{ hang: true }]);
    expect(silent.r.status === "model_error" && silent.r.detail).toMatch(/no answer within 2000 ms/);
    await server?.close();
    const wall = await run([{ hang: true }], { maxWallMs: 500 });
    expect(wall.r.status).toBe("budget");
  });

  it("stops when aborted", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const { r } = await run([{ hang: true }], {}, { signal: ac.signal });
    expect(r.status).toBe("aborted");
  });
});
