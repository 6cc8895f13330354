import { describe, expect, it } from "vitest";
import { addedLines, recentChanges } from "../../src/synth/history.ts";
import { sourceFile } from "../../src/synth/source.ts";
import { STRATEGIES, seeded } from "../../src/synth/strategies.ts";
import { TestRepo } from "../helpers/repos.ts";

const V1 =
  "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    return x\n\n\ndef add(a, b):\n    return a + b\n";
const V2 = V1.replace("        return lo\n", "        return lo\n    if x > hi:\n        return hi\n");
const V3 = V2.replace("return a + b", "return b + a");

describe("history: what recent commits did to the functions", () => {
  it("reads the added lines of a zero-context diff", () => {
    const diff = [
      "diff --git a/x.py b/x.py",
      "--- a/x.py",
      "+++ b/x.py",
      "@@ -3,0 +4,2 @@",
      "+a",
      "+b",
      "@@ -9 +11 @@",
      "-c",
      "+d",
      "",
    ].join("\n");
    expect(addedLines(diff)).toEqual(new Map([["x.py", [4, 5, 11]]]));
  });

  it("finds each function's newest change and its text before it, in a real repository", async () => {
    const r = new TestRepo("sweu-synth-hist-");
    r.commit("one", { "calc/ops.py": V1, "README.md": "x\n" });
    const two = r.commit("two: clamp learns hi", { "calc/ops.py": V2 });
    r.commit("docs only", { "README.md": "y\n" });
    const three = r.commit("three: add swaps", { "calc/ops.py": V3 });
    const f = (await sourceFile("calc/ops.py", V3))!;
    const recent = await recentChanges(r.dir, three, [f]);
    const byName = new Map(recent.map((c) => [c.site.name, c]));
    expect([...byName.keys()].sort()).toEqual(["add", "clamp"]);
    expect(byName.get("clamp")!.commit).toBe(two);
    expect(byName.get("clamp")!.before).toBe(
      "def clamp(x, lo, hi):\n    if x < lo:\n        return lo\n    return x",
    );
    // Rows of "if x > hi:" and "return hi" at the environment's commit (0-based).
    expect(byName.get("clamp")!.added).toEqual([3, 4]);
    expect(byName.get("add")!.before).toBe("def add(a, b):\n    return a + b");
    // History reversion puts clamp back; hunk removal takes out the statement the commit added.
    const ctx = {
      functions: [],
      recent,
      usage: { prompt_tokens: 0, completion_tokens: 0, usd: 0 },
      rng: seeded("h"),
      limit: 5,
    };
    const reverts = await STRATEGIES["history-revert"]!.propose(ctx);
    expect(reverts.map((m) => m.symbols[0]).sort()).toEqual(["add", "clamp"]);
    const hunks = await STRATEGIES["remove-hunk"]!.propose(ctx);
    // add's body is one statement: nothing to remove alone.
    expect(hunks.map((m) => m.symbols[0])).toEqual(["clamp"]);
    const edit = hunks[0]!.changes[0]!.edits[0]!;
    expect(V3.slice(edit.start, edit.end)).toBe("    if x > hi:\n        return hi\n");
    f.tree.delete();
  });

  it("a function changed twice counts at its newest change (only that one is a clean revert)", async () => {
    const r = new TestRepo("sweu-synth-hist2-");
    r.commit("one", { "m.py": V1 });
    r.commit("two", { "m.py": V2 });
    const head = r.commit("three", { "m.py": V2.replace("return hi", "return hi  # upper") });
    const text = V2.replace("return hi", "return hi  # upper");
    const f = (await sourceFile("m.py", text))!;
    const recent = await recentChanges(r.dir, head, [f]);
    expect(
      recent.map((c) => [
        c.site.name,
        c.before.includes("# upper") ? "3" : c.before.includes("> hi") ? "2" : "1",
      ]),
    ).toEqual([["clamp", "2"]]);
    f.tree.delete();
  });
});
