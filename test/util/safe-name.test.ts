import { describe, expect, it } from "vitest";
import { decodeLossless } from "../../src/util/lossless.ts";
import { inside, MAX_NAME_BYTES, safeFileName } from "../../src/util/safe-name.ts";

describe("safeFileName", () => {
  it("keeps names that are already safe, and SWE-bench's org/model → org__model", () => {
    expect(safeFileName("acme__calc-12")).toBe("acme__calc-12");
    expect(safeFileName("org/model-7b")).toBe("org__model-7b");
  });

  it("never yields a path: no separators, no . or .., no control characters", () => {
    for (const bad of ["..", ".", "../../../escaped", "a/../b", "\\..\\x", "x\ny", "", ".hidden"]) {
      const s = safeFileName(bad);
      expect(s, bad).not.toMatch(/[/\\\n]/);
      expect(s, bad).not.toMatch(/^\.+$/);
      expect(s, bad).not.toMatch(/^\./);
      expect(s.length, bad).toBeGreaterThan(0);
    }
  });

  it("bounds long names and keeps two long names apart by a hash of the whole name", () => {
    const a = safeFileName(`${"m".repeat(300)}a`);
    const b = safeFileName(`${"m".repeat(300)}b`);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(a).not.toBe(b);
    expect(Buffer.byteLength(safeFileName("é".repeat(200)))).toBeLessThanOrEqual(MAX_NAME_BYTES);
  });

  it("changed names differ from the names they could be mistaken for", () => {
    expect(safeFileName("..")).not.toBe(safeFileName("__"));
  });

  it("inside() refuses a path that leaves its folder", () => {
    expect(inside("/tmp/out", "a", "b")).toBe("/tmp/out/a/b");
    expect(() => inside("/tmp/out", "..", "x")).toThrow(/outside/);
  });
});

describe("decodeLossless", () => {
  it("decodes UTF-8 as it is and keeps every other byte as \\x{NN}, never U+FFFD", () => {
    expect(decodeLossless(Buffer.from("café", "utf8"))).toBe("café");
    const latin1 = decodeLossless(Buffer.from("caf\xe9.py", "latin1"));
    expect(latin1).toBe("caf\\x{E9}.py");
    expect(latin1).not.toContain("\ufffd");
    expect(decodeLossless(Buffer.from([0xe9, 0x41]))).not.toBe(decodeLossless(Buffer.from([0xea, 0x41])));
  });
});
