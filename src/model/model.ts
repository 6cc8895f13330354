/**
 * The model seam: one chat call with tools. The agent loop and the judge see only this interface; the
 * OpenAI-compatible client (openai.ts) sits behind it, scripted servers stand in for it in tests.
 */

/** A tool the model may call; `parameters` is a JSON schema object. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Raw JSON text as the model produced it (may be malformed: the caller decides). */
  arguments: string;
}

/** Chat messages in the OpenAI shape, so trajectories export as fine-tuning data unchanged. */
export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: ToolCall[] }
  | { role: "tool"; tool_call_id: string; content: string };

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ModelReply {
  content: string | null;
  tool_calls: ToolCall[];
  usage: Usage;
  /** Cost of this call in USD, from the configured prices. */
  usd: number;
  finish_reason?: string;
}

export interface CompleteOptions {
  tools?: ToolSpec[];
  /** Force a call of this tool (structured output). */
  toolChoice?: string;
  signal?: AbortSignal;
  temperature?: number;
}

export interface Model {
  /** Model name as the endpoint knows it. */
  readonly name: string;
  complete(messages: ChatMessage[], o?: CompleteOptions): Promise<ModelReply>;
}

/** Raised when the endpoint cannot give an answer after retries (HTTP errors, timeouts, garbage). */
export class ModelError extends Error {
  readonly status?: number;
  readonly timedOut: boolean;
  constructor(message: string, o: { status?: number; timedOut?: boolean; cause?: unknown } = {}) {
    super(message, { cause: o.cause });
    this.name = "ModelError";
    this.status = o.status;
    this.timedOut = o.timedOut ?? false;
  }
}
