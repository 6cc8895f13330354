import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What a client sent to /chat/completions. */
export interface ChatRequest {
  model: string;
  messages: { role: string; content: string | null; tool_call_id?: string; tool_calls?: unknown[] }[];
  tools?: { function: { name: string } }[];
  tool_choice?: string | { type: string; function: { name: string } };
}

export interface ScriptedCall {
  name: string;
  /** An object is JSON-encoded; a string is sent as is (so it can be malformed JSON). */
  arguments: string | Record<string, unknown>;
  id?: string;
}

/** One scripted answer. */
export type Turn =
  | { content?: string; calls?: ScriptedCall[]; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { status: number; body?: string }
  | { hang: true }
  | { raw: string }
  | ((req: ChatRequest) => Turn);

/**
 * A real HTTP server speaking the OpenAI chat-completions protocol on 127.0.0.1 (random port) that replays
 * scripted turns: tool calls, usage, HTTP errors, silence, malformed bodies. Requests whose tool_choice
 * forces a function (the judge's structured verdict) are answered from `judgeTurns`.
 */
export class FakeOpenAI {
  readonly requests: ChatRequest[] = [];
  readonly judgeRequests: ChatRequest[] = [];
  private server!: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = "";
  private turns: Turn[];
  private judgeTurns: Turn[];
  private readonly whenDone: Turn;

  constructor(turns: Turn[], o: { judgeTurns?: Turn[]; whenDone?: Turn } = {}) {
    this.turns = [...turns];
    this.judgeTurns = [...(o.judgeTurns ?? [])];
    this.whenDone = o.whenDone ?? { content: "(no more scripted turns)" };
  }

  static async start(turns: Turn[], o: { judgeTurns?: Turn[]; whenDone?: Turn } = {}): Promise<FakeOpenAI> {
    const f = new FakeOpenAI(turns, o);
    f.server = createServer((req, res) => void f.handle(req, res));
    await new Promise<void>((ok) => f.server.listen(0, "127.0.0.1", ok));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/v1`;
    return f;
  }

  /** Turns not yet served. */
  get remaining(): number {
    return this.turns.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest;
    const forced = typeof body.tool_choice === "object";
    (forced ? this.judgeRequests : this.requests).push(body);
    let turn: Turn = (forced ? this.judgeTurns : this.turns).shift() ?? this.whenDone;
    while (typeof turn === "function") turn = turn(body);
    if ("hang" in turn) {
      this.hanging.add(res);
      res.on("close", () => this.hanging.delete(res));
      return;
    }
    if ("status" in turn) {
      res.writeHead(turn.status, { "content-type": "application/json" });
      res.end(
        turn.body ?? JSON.stringify({ error: { message: `scripted ${turn.status}`, type: "server_error" } }),
      );
      return;
    }
    if ("raw" in turn) {
      res.writeHead(200, { "content-type": "application/json" }).end(turn.raw);
      return;
    }
    const calls = (turn.calls ?? []).map((c, i) => ({
      id: c.id ?? `call_${this.requests.length}_${i}`,
      type: "function",
      function: {
        name: c.name,
        arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const usage = turn.usage ?? { prompt_tokens: 100, completion_tokens: 20 };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id: `chatcmpl-${this.requests.length}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: turn.content ?? null,
              ...(calls.length ? { tool_calls: calls } : {}),
            },
            finish_reason: calls.length ? "tool_calls" : "stop",
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}
