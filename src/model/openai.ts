import OpenAI from "openai";
import type { ChatMessage, CompleteOptions, Model, ModelReply, ToolCall } from "./model.ts";
import { ModelError } from "./model.ts";

export interface OpenAIModelOptions {
  /** e.g. http://localhost:8000/v1 for vLLM/SGLang; default SWEU_MODEL_BASE_URL, else the OpenAI API. */
  baseURL?: string;
  /** Default SWEU_MODEL_API_KEY, then OPENAI_API_KEY; local servers accept any value. */
  apiKey?: string;
  /** Default SWEU_MODEL. */
  model?: string;
  /** Per-attempt timeout, ms (default 120 s). */
  timeoutMs?: number;
  /** Retries on 408/409/429/5xx, connection errors and timeouts, with the SDK's exponential backoff (default 3). */
  maxRetries?: number;
  /** USD per million input / output tokens (default 0: self-hosted). Env SWEU_MODEL_PRICE_IN / _OUT. */
  pricePerMInput?: number;
  pricePerMOutput?: number;
}

/** Resolved settings, or undefined when no model is configured. */
export function modelSettings(
  o: OpenAIModelOptions = {},
  env = process.env,
): Required<OpenAIModelOptions> | undefined {
  const model = o.model ?? env.SWEU_MODEL;
  if (!model) return undefined;
  const num = (v: string | undefined, d: number) =>
    v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d;
  return {
    model,
    baseURL: o.baseURL ?? env.SWEU_MODEL_BASE_URL ?? "https://api.openai.com/v1",
    apiKey: o.apiKey ?? env.SWEU_MODEL_API_KEY ?? env.OPENAI_API_KEY ?? "sk-none",
    timeoutMs: o.timeoutMs ?? num(env.SWEU_MODEL_TIMEOUT_MS, 120_000),
    maxRetries: o.maxRetries ?? num(env.SWEU_MODEL_MAX_RETRIES, 3),
    pricePerMInput: o.pricePerMInput ?? num(env.SWEU_MODEL_PRICE_IN, 0),
    pricePerMOutput: o.pricePerMOutput ?? num(env.SWEU_MODEL_PRICE_OUT, 0),
  };
}

/** A Model over any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, SGLang, llama.cpp, …). */
export class OpenAIModel implements Model {
  readonly name: string;
  private readonly client: OpenAI;
  private readonly s: Required<OpenAIModelOptions>;

  constructor(o: OpenAIModelOptions = {}) {
    const s = modelSettings(o);
    if (!s) throw new ModelError("no model configured: pass --model or set SWEU_MODEL");
    this.s = s;
    this.name = s.model;
    this.client = new OpenAI({
      baseURL: s.baseURL,
      apiKey: s.apiKey,
      timeout: s.timeoutMs,
      maxRetries: s.maxRetries,
    });
  }

  async complete(messages: ChatMessage[], o: CompleteOptions = {}): Promise<ModelReply> {
    let res: OpenAI.Chat.Completions.ChatCompletion;
    try {
      res = await this.client.chat.completions.create(
        {
          model: this.s.model,
          messages: messages.map(toWire),
          ...(o.tools?.length
            ? {
                tools: o.tools.map((t) => ({
                  type: "function" as const,
                  function: { name: t.name, description: t.description, parameters: t.parameters },
                })),
                tool_choice: o.toolChoice
                  ? { type: "function" as const, function: { name: o.toolChoice } }
                  : ("auto" as const),
              }
            : {}),
          ...(o.temperature === undefined ? {} : { temperature: o.temperature }),
        },
        { signal: o.signal },
      );
    } catch (e) {
      if (o.signal?.aborted) throw e;
      const status = e instanceof OpenAI.APIError ? e.status : undefined;
      const timedOut = e instanceof OpenAI.APIConnectionTimeoutError;
      const what = timedOut
        ? `no answer within ${this.s.timeoutMs} ms`
        : status
          ? `HTTP ${status}`
          : e instanceof Error
            ? e.message
            : String(e);
      throw new ModelError(`model endpoint ${this.s.baseURL}: ${what} (after ${this.s.maxRetries} retries)`, {
        status,
        timedOut,
        cause: e,
      });
    }
    const choice = res.choices?.[0];
    if (!choice?.message) throw new ModelError(`model endpoint ${this.s.baseURL}: answer without a message`);
    const calls: ToolCall[] = [];
    for (const c of choice.message.tool_calls ?? [])
      if (c.type === "function")
        calls.push({
          id: c.id || `call_${calls.length}`,
          name: c.function.name,
          arguments: c.function.arguments ?? "",
        });
    const usage = {
      prompt_tokens: res.usage?.prompt_tokens ?? 0,
      completion_tokens: res.usage?.completion_tokens ?? 0,
    };
    return {
      content: choice.message.content ?? null,
      tool_calls: calls,
      usage,
      usd:
        (usage.prompt_tokens * this.s.pricePerMInput + usage.completion_tokens * this.s.pricePerMOutput) /
        1e6,
      finish_reason: choice.finish_reason ?? undefined,
    };
  }
}

function toWire(m: ChatMessage): OpenAI.Chat.Completions.ChatCompletionMessageParam {
  if (m.role === "assistant")
    return {
      role: "assistant",
      content: m.content,
      ...(m.tool_calls?.length
        ? {
            tool_calls: m.tool_calls.map((c) => ({
              id: c.id,
              type: "function" as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : {}),
    };
  return m;
}

/** The configured model, or undefined when none is (no --model, no SWEU_MODEL). */
export function modelFromConfig(o: OpenAIModelOptions = {}): Model | undefined {
  return modelSettings(o) ? new OpenAIModel(o) : undefined;
}
