import { describe, expect, it } from "vitest";
import { createQueue } from "../../src/queue/index.ts";
import { MemoryQueue } from "../../src/queue/memory.ts";
import type { JobResult } from "../../src/queue/queue.ts";
import { pool, Semaphore } from "../../src/run/limits.ts";

describe("in-process queue", () => {
  it("runs each id once, at most `concurrency` at a time, and retries a throwing job", async () => {
    let running = 0;
    let peak = 0;
    const tries = new Map<string, number>();
    const q = new MemoryQueue({
      concurrency: 3,
      attempts: 2,
      backoffMs: 1,
      handlers: {
        work: async (_d, ctx) => {
          tries.set(ctx.id, (tries.get(ctx.id) ?? 0) + 1);
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 10));
          running--;
          if (ctx.id === "flaky" && ctx.attempt === 1) throw new Error("first try fails");
          if (ctx.id === "broken") throw new Error("always fails");
          return ctx.id.toUpperCase();
        },
      },
    });
    const jobs = ["a", "b", "c", "d", "e", "a", "flaky", "broken"].map((id) => ({
      id,
      name: "work",
      data: {},
    }));
    const results: JobResult[] = [];
    await q.run(jobs, (r) => {
      results.push(r);
    });
    expect(results.map((r) => r.id).sort()).toEqual(["a", "b", "broken", "c", "d", "e", "flaky"]);
    expect(peak).toBe(3);
    expect(tries.get("a")).toBe(1);
    expect(tries.get("flaky")).toBe(2);
    expect(results.find((r) => r.id === "flaky")).toMatchObject({ ok: true, value: "FLAKY" });
    const broken = results.find((r) => r.id === "broken");
    expect(broken?.ok).toBe(false);
    expect(broken && !broken.ok && broken.error).toMatch(/always fails/);
  });

  it("reports an unknown job kind and an unknown queue kind clearly", async () => {
    const q = createQueue("memory", { memory: { handlers: {} } });
    const results: JobResult[] = [];
    await q.run([{ id: "x", name: "nope", data: {} }], (r) => {
      results.push(r);
    });
    expect(results[0]).toMatchObject({ ok: false, error: 'no handler for job kind "nope"' });
    expect(() => createQueue("kafka", {})).toThrow(/unknown queue kind "kafka"/);
    expect(() => createQueue("bullmq", {})).toThrow(/needs a Redis URL/);
  });
});

describe("limits", () => {
  it("a semaphore never lets more than its size through", async () => {
    const s = new Semaphore(2);
    let inside = 0;
    let peak = 0;
    await pool([1, 2, 3, 4, 5, 6], 6, async () => {
      await s.with(async () => {
        inside++;
        peak = Math.max(peak, inside);
        await new Promise((r) => setTimeout(r, 5));
        inside--;
      });
    });
    expect(peak).toBe(2);
    expect(s.inUse).toBe(0);
  });
});
