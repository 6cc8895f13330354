import { describe, expect, it } from "vitest";
import { runMineBench } from "../../bench/mine.bench.ts";

describe("mine benchmark (CI smoke run, N = 200)", () => {
  it("mines every synthetic PR into a task and reports candidates per second", async () => {
    const lines: string[] = [];
    const r = await runMineBench(200, (l) => lines.push(l));
    expect(r).toMatchObject({ n: 200, listed: 200, tasks: 200, rejections: 0 });
    expect(lines.join("\n")).toMatch(/mined: 200 candidates → 200 tasks, 0 rejections/);
    expect(lines.join("\n")).toMatch(/mine time: \d+\.\d s, \d+ candidates\/s/);
    expect(r.candidatesPerSecond).toBeGreaterThan(0);
  });
});
