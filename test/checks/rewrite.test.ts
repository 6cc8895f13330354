import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rewriteFix, stubFix } from "../../src/checks/rewrite.ts";
import { addedLineNumbers } from "../../src/checks/syntax.ts";

/** A diff section that adds every line of `source` (a new file): the whole file is the fix. */
const whole = (source: string) => {
  const lines = source.replace(/\n$/, "").split("\n");
  return `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join("\n")}\n`;
};

const PY = `import os

LIMIT = 10


def total(prices, percent=0, key=None):
    """Sum of the prices, less the discount."""
    subtotal = 0
    rate = percent
    for price in prices:
        reduced = price * (100 - rate) / 100
        subtotal += reduced
    label = f"{subtotal:.2f}"
    return dict(key=key, total=subtotal, label=label)


def untouched(a):
    low = a
    return low
`;

const JS = `import { width } from './width.js';

export function truncate(s, n) {
  const mark = '…';
  const limit = n;
  const opts = { limit };
  if (s.length <= limit) return s;
  const kept = Array.from(s).slice(0, limit).join('');
  return kept + mark;
}

export function pad(s, n) {
  const fill = ' ';
  const need = n - s.length;
  return need > 0 ? fill.repeat(need) + s : s;
}
`;

const GO = `package calc

// Clamp limits x to [lo, hi].
func Clamp(x, lo, hi int) int {
	low := lo
	top := hi
	if x < low {
		return low
	}
	if x > top {
		return top
	}
	return x
}
`;

const run = (cmd: string, args: string[], cwd?: string) =>
  execFileSync(cmd, args, { encoding: "utf8", ...(cwd ? { cwd } : {}) }).trim();

describe("equivalent rewrites on real syntax trees", () => {
  it("Python: renames locals (not parameters, keyword names or f-string text), swaps independent statements, parenthesises", async () => {
    const r = (await rewriteFix("pkg/m.py", PY, whole(PY)))!;
    expect(r.changes.join("; ")).toMatch(/renamed subtotal → sweu_v\d.*renamed reduced/);
    expect(r.changes.join("; ")).toMatch(/swapped `sweu_v\d = 0` and `sweu_v\d = percent`/);
    expect(r.source).not.toMatch(/\bsubtotal\b|\breduced\b|\blabel =/);
    expect(r.source).toContain("dict(key=key, total=");
    expect(r.source).toContain("def total(prices, percent=0, key=None):");
    // `untouched` is part of the fix here too; its local `low` is renamed, its parameter is not.
    expect(r.source).toMatch(/def untouched\(a\):\n {4}sweu_v\d+ = \(a\)/);
    // Same behaviour: both versions print the same result.
    const dir = mkdtempSync(join(tmpdir(), "sweu-rw-"));
    writeFileSync(join(dir, "a.py"), PY);
    writeFileSync(join(dir, "b.py"), r.source);
    const call = (m: string) =>
      run("python3", ["-c", `import ${m}; print(${m}.total([10, 20.5], 10, key='k'))`], dir);
    expect(call("b")).toBe(call("a"));
  });

  it("JavaScript: leaves shorthand properties' names alone and keeps behaviour", async () => {
    const r = (await rewriteFix("src/strs.mjs", JS, whole(JS)))!;
    expect(r.source).toMatch(/const sweu_v\d = \(\{ limit \}\);/);
    expect(r.source).not.toMatch(/\bconst (?:mark|kept|fill|need)\b/);
    expect(r.source).toMatch(/const limit = \(n\);/);
    const dir = mkdtempSync(join(tmpdir(), "sweu-rw-"));
    writeFileSync(join(dir, "width.js"), "export const width = (s) => s.length;\n");
    writeFileSync(join(dir, "a.mjs"), JS);
    writeFileSync(join(dir, "b.mjs"), r.source);
    const call = (f: string) =>
      run(
        "node",
        ["-e", `import('./${f}').then((m) => console.log(m.truncate('abcdef', 3), m.pad('ab', 4)))`],
        dir,
      );
    expect(call("b.mjs")).toBe(call("a.mjs"));
  });

  it("TypeScript parses with its own grammar (types are not renamed)", async () => {
    const ts = "export function f(a: number): number {\n  const low: number = a;\n  return low * 2;\n}\n";
    const r = (await rewriteFix("src/f.ts", ts, whole(ts)))!;
    expect(r.source).toMatch(/const sweu_v\d: number = \(a\);\n {2}return \(sweu_v\d \* 2\);/);
  });

  it("Go: renames := locals, swaps them, parenthesises; the result compiles to the same answers", async () => {
    const r = (await rewriteFix("calc/clamp.go", GO, whole(GO)))!;
    expect(r.changes.join("; ")).toMatch(/renamed low → sweu_v1.*renamed top → sweu_v2.*swapped/);
    const dir = mkdtempSync(join(tmpdir(), "sweu-rw-"));
    const main = (src: string) =>
      `${src.replace("package calc", "package main")}\nfunc main() { println(Clamp(-5, 0, 10), Clamp(50, 0, 10), Clamp(5, 0, 10)) }\n`;
    writeFileSync(join(dir, "a.go"), main(GO));
    writeFileSync(join(dir, "b.go"), main(r.source));
    const go = (f: string) =>
      execFileSync("go", ["run", f], { cwd: dir, encoding: "utf8", stdio: "pipe" }).trim();
    try {
      run("go", ["version"]);
    } catch {
      return; // no Go on this machine: the syntax checks above still ran
    }
    expect(go("b.go")).toBe(go("a.go"));
  }, 120_000);

  it("rewrites only the functions the fix changed", async () => {
    const section = "@@ -17,0 +17,3 @@\n+def untouched(a):\n+    low = a\n+    return low\n";
    const r = (await rewriteFix("pkg/m.py", PY, section))!;
    expect(r.source).toContain("    subtotal = 0\n");
    expect(r.source).not.toContain("    low = a");
    expect([...addedLineNumbers(section)]).toEqual([17, 18, 19]);
  });

  it("leaves functions that read their own variables by name (locals(), eval) unrenamed", async () => {
    const src = "def f(a):\n    x = a\n    return locals()['x']\n";
    const r = await rewriteFix("m.py", src, whole(src));
    expect(r?.source ?? src).toContain("x = (a)");
  });
});

describe("stubs", () => {
  it("replace the bodies of changed functions by one that throws, in each language", async () => {
    const py = (await stubFix(
      "pkg/m.py",
      PY,
      "@@ -6,0 +6,2 @@\n+def total(prices, percent=0, key=None):\n+    subtotal = 0\n",
    ))!;
    expect(py.source).toMatch(
      /def total\(prices, percent=0, key=None\):\n {4}raise NotImplementedError\("sweu: stubbed by the audit"\)\n\n\ndef untouched/,
    );
    expect(py.changes).toEqual(["stubbed total"]);
    const js = (await stubFix("src/strs.js", JS, whole(JS)))!;
    expect(js.source).toContain(
      'export function truncate(s, n) { throw new Error("sweu: stubbed by the audit"); }',
    );
    const go = (await stubFix("calc/clamp.go", GO, whole(GO)))!;
    expect(go.source).toContain('func Clamp(x, lo, hi int) int { panic("sweu: stubbed by the audit") }');
    expect(await stubFix("README.md", "# x\n", whole("# x\n"))).toBeUndefined();
  });
});
