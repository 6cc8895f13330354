import { afterEach, describe, expect, it } from "vitest";
import { ModelError } from "../../src/model/model.ts";
import { modelSettings, OpenAIModel } from "../../src/model/openai.ts";
import { FakeOpenAI, type Turn } from "../helpers/fake-openai.ts";

let server: FakeOpenAI | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
const start = async (turns: Turn[]) => {
  server = await FakeOpenAI.start(turns);
  return server;
};

describe("OpenAI-compatible client against a real local server", () => {
  it("sends tools, reads tool calls, counts tokens and prices them", async () => {
    const s = await start([
      {
        calls: [{ name: "bash", arguments: { command: "ls" } }],
        usage: { prompt_tokens: 1000, completion_tokens: 500 },
      },
    ]);
    const m = new OpenAIModel({
      baseURL: s.url,
      apiKey: "k",
      model: "m1",
      pricePerMInput: 2,
      pricePerMOutput: 10,
    });
    const r = await m.complete([{ role: "user", content: "hi" }], {
      tools: [{ name: "bash", description: "run", parameters: { type: "object", properties: {} } }],
    });
    expect(r.tool_calls).toEqual([{ id: expect.any(String), name: "bash", arguments: '{"command":"ls"}' }]);
    expect(r.usage).toEqual({ prompt_tokens: 1000, completion_tokens: 500 });
    expect(r.usd).toBeCloseTo((1000 * 2 + 500 * 10) / 1e6, 10);
    expect(s.requests[0]!.model).toBe("m1");
    expect(s.requests[0]!.tools?.[0]?.function.name).toBe("bash");
  });

  it("retries 5xx and 429 with backoff, then answers", async () => {
    const s = await start([{ status: 500 }, { status: 429 }, { content: "ok" }]);
    const m = new OpenAIModel({ baseURL: s.url, model: "m", maxRetries: 3 });
    const r = await m.complete([{ role: "user", content: "x" }]);
    expect(r.content).toBe("ok");
    expect(s.requests.length).toBe(3);
  }, 30_000);

  it("gives up with a ModelError naming the status after its retries", async () => {
    const s = await start([{ status: 503 }, { status: 503 }]);
    const m = new OpenAIModel({ baseURL: s.url, model: "m", maxRetries: 1 });
    const e = await m.complete([{ role: "user", content: "x" }]).catch((x) => x);
    expect(e).toBeInstanceOf(ModelError);
    expect((e as ModelError).status).toBe(503);
    expect(s.requests.length).toBe(2);
  }, 30_000);

  it("times out a silent server", async () => {
    const s = await start([{ hang: true }]);
    const m = new OpenAIModel({ baseURL: s.url, model: "m", maxRetries: 0, timeoutMs: 500 });
    const t0 = Date.now();
    const e = await m.complete([{ role: "user", content: "x" }]).catch((x) => x);
    expect(e).toBeInstanceOf(ModelError);
    expect((e as ModelError).timedOut).toBe(true);
    expect((e as Error).message).toMatch(/no answer within 500 ms/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it("reports a body that is not a chat completion", async () => {
    const s = await start([{ raw: '{"choices": []}' }, { raw: "not json" }]);
    const m = new OpenAIModel({ baseURL: s.url, model: "m", maxRetries: 0 });
    await expect(m.complete([{ role: "user", content: "x" }])).rejects.toThrow(/without a message/);
    await expect(m.complete([{ role: "user", content: "x" }])).rejects.toBeInstanceOf(Error);
  });

  it("takes its settings from the environment; no model means none configured", () => {
    expect(modelSettings({}, {})).toBeUndefined();
    const s = modelSettings(
      {},
      { SWEU_MODEL: "q", OPENAI_API_KEY: "ok", SWEU_MODEL_BASE_URL: "http://h/v1", SWEU_MODEL_PRICE_IN: "3" },
    );
    expect(s).toMatchObject({
      model: "q",
      apiKey: "ok",
      baseURL: "http://h/v1",
      pricePerMInput: 3,
      pricePerMOutput: 0,
    });
    expect(modelSettings({}, { SWEU_MODEL: "q", SWEU_MODEL_API_KEY: "a", OPENAI_API_KEY: "b" })?.apiKey).toBe(
      "a",
    );
  });
});
