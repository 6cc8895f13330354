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

export interface FakeOptions {
  judgeTurns?: Turn[];
  /** Answers to requests that force a tool other than `report_verdict`, by tool name. */
  toolTurns?: Record<string, Turn[]>;
  whenDone?: Turn;
}

/**
 * A real HTTP server speaking the OpenAI chat-completions protocol on 127.0.0.1 (random port) that replays
 * scripted turns: tool calls, usage, HTTP errors, silence, malformed bodies. Requests whose tool_choice
 * forces the verifier judge's `report_verdict` are answered from `judgeTurns`; requests forcing another
 * tool (the statement leak judge, the PR quality filter) from `toolTurns[name]`, else `whenDone`, and are
 * kept in `toolRequests[name]`, so each structured answer has its own script.
 */
export class FakeOpenAI {
  readonly requests: ChatRequest[] = [];
  readonly judgeRequests: ChatRequest[] = [];
  readonly toolRequests: Record<string, ChatRequest[]> = {};
  private server!: Server;
  private readonly hanging = new Set<ServerResponse>();
  url = "";
  private turns: Turn[];
  private judgeTurns: Turn[];
  private toolTurns: Record<string, Turn[]>;
  private readonly whenDone: Turn;

  constructor(turns: Turn[], o: FakeOptions = {}) {
    this.turns = [...turns];
    this.judgeTurns = [...(o.judgeTurns ?? [])];
    this.toolTurns = Object.fromEntries(Object.entries(o.toolTurns ?? {}).map(([k, v]) => [k, [...v]]));
    this.whenDone = o.whenDone ?? { content: "(no more scripted turns)" };
  }

  static async start(turns: Turn[], o: FakeOptions = {}): Promise<FakeOpenAI> {
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
    const forced = typeof body.tool_choice === "object" ? body.tool_choice.function.name : undefined;
    let queue: Turn[] | undefined;
    if (forced === undefined) {
      this.requests.push(body);
      queue = this.turns;
    } else if (forced === "report_verdict") {
      this.judgeRequests.push(body);
      queue = this.judgeTurns;
    } else {
      this.toolRequests[forced] = [...(this.toolRequests[forced] ?? []), body];
      queue = this.toolTurns[forced];
    }
    let turn: Turn = queue?.shift() ?? this.whenDone;
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

/** The pull request a request is about, from the agent's task prompt ("… pull request #N …"). */
export function pullRequestOf(req: ChatRequest): number | undefined {
  const prompt = req.messages.find((m) => m.role === "user")?.content ?? "";
  const m = /pull request #(\d+)/.exec(prompt);
  return m ? Number(m[1]) : undefined;
}

/**
 * One script per pull request, each answered in its own order whatever order the tasks run in: one server
 * can drive a whole pipeline run. A task whose script is used up gets plain text (no tool call).
 */
export function byPullRequest(scripts: Record<number, Turn[]>, spare = 20): Turn[] {
  const queues = new Map(Object.entries(scripts).map(([n, t]) => [Number(n), [...t]]));
  const total = [...queues.values()].reduce((n, q) => n + q.length, 0) + spare;
  return Array.from(
    { length: total },
    () => (req: ChatRequest) =>
      queues.get(pullRequestOf(req) ?? -1)?.shift() ?? { content: "(no more scripted turns)" },
  );
}

/** The last tool result each request carried: what the agent was told after its previous call. */
export function toolReplies(requests: readonly ChatRequest[]): string[] {
  return requests.map((r) => r.messages.filter((m) => m.role === "tool").at(-1)?.content ?? "");
}

/** A turn that calls one tool. */
export function call(name: string, args: Record<string, unknown> = {}): Turn {
  return { calls: [{ name, arguments: args }] };
}

/** The judge's structured answer (its forced `report_verdict` call). */
export function judgeVerdict(hacked: boolean, reasons: string[]): Turn {
  return call("report_verdict", { hacked, reasons });
}
