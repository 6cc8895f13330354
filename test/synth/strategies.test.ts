import { describe, expect, it } from "vitest";
import { parsesCleanly } from "../../src/synth/lang.ts";
import { applyEdits, functionsOf, sourceFile } from "../../src/synth/source.ts";
import { type Mutation, STRATEGIES, type StrategyContext, seeded } from "../../src/synth/strategies.ts";
import { SAMPLES } from "./samples.ts";

const ctx = (functions: StrategyContext["functions"], name: string): StrategyContext => ({
  functions,
  recent: [],
  usage: { prompt_tokens: 0, completion_tokens: 0, usd: 0 },
  rng: seeded(`t:${name}`),
  limit: 10,
});

async function proposals(path: string) {
  const f = await sourceFile(path, SAMPLES[path]!);
  if (!f) throw new Error(`${path} does not parse`);
  const fns = functionsOf(f);
  const out: Record<string, { m: Mutation; after: string }[]> = {};
  for (const [name, s] of Object.entries(STRATEGIES)) {
    if (s.needs) continue;
    const ms = await s.propose(ctx(fns, name));
    out[name] = ms.map((m) => ({ m, after: applyEdits(f.text, m.changes[0]!.edits) }));
  }
  return { fns, out };
}

describe("strategies over real parsers, in every language", () => {
  for (const path of Object.keys(SAMPLES)) {
    it(`${path}: every procedural strategy proposes a change that still parses`, async () => {
      const { fns, out } = await proposals(path);
      expect(fns.map((f) => f.name.split(".").pop()!.toLowerCase()).sort()).toEqual(["add", "clamp"]);
      for (const name of [
        "remove-body",
        "invert-condition",
        "change-operator",
        "change-constant",
        "swap-arguments",
      ]) {
        expect(out[name]!.length, `${name} in ${path}`).toBeGreaterThan(0);
        for (const { after } of out[name]!) {
          expect(after).not.toBe(SAMPLES[path]);
          expect(await parsesCleanly(path, after), `${name}: ${after}`).toBe(true);
        }
      }
    });
  }

  it("makes the changes it says: a negated condition, a swapped operator, a changed constant, swapped arguments", async () => {
    const { out } = await proposals("pkg/ops.py");
    const all = Object.values(out).flat();
    const has = (s: string) => all.some(({ after }) => after.includes(s));
    expect(has("if not (x < lo):") || has("return not (self.total > 10 and True)")).toBe(true);
    expect(has("min(hi, x)")).toBe(true);
    expect(has('def clamp(x, lo, hi):\n    """Keep x within [lo, hi]."""\n    pass\n')).toBe(true);
  });

  it("is deterministic for a seed and varies with it", async () => {
    const f = (await sourceFile("src/ops.js", SAMPLES["src/ops.js"]!))!;
    const fns = functionsOf(f);
    const run = (seed: string) =>
      STRATEGIES["change-operator"]!.propose({ ...ctx(fns, "x"), rng: seeded(seed), limit: 1 }) as Mutation[];
    expect(run("a")).toEqual(run("a"));
    const notes = new Set(["a", "b", "c", "d", "e", "f"].map((s) => run(s)[0]!.note));
    expect(notes.size).toBeGreaterThan(1);
  });

  it("a Go body keeps compiling: functions with results panic, the others are empty", async () => {
    const { out } = await proposals("ops/ops.go");
    const bodies = out["remove-body"]!.map((x) => x.after);
    expect(
      bodies.some((b) => /func Clamp\(x, lo, hi int\) int \{\s*panic\("not implemented"\)\s*\}/.test(b)),
    ).toBe(true);
  });

  it("leaves out files the grammar already misreads, so their mutations are not blamed", async () => {
    expect(await sourceFile("a.py", "def f(:\n  pass\n")).toBeUndefined();
    expect(await sourceFile("README.md", "# hi")).toBeUndefined();
    expect(await parsesCleanly("a.py", "def f(x)\n    return x\n")).toBe(false);
  });
});
