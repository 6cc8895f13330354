/** `serve`'s arguments: what it refuses before it listens (no container starts: no lock needed). */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const BIN = resolve(import.meta.dirname, "../../bin/swe-universe");

function serve(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(BIN, ["serve", ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, SWEU_SERVE_TOKEN: "", ...env },
  });
  return { code: r.status, stderr: r.stderr };
}

describe("swe-universe serve refuses bad arguments", () => {
  it("without a token (exit 2)", () => {
    const r = serve(["--dataset", "/nonexistent/dataset.jsonl"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a token is required: --token or SWEU_SERVE_TOKEN/);
  });

  it("with a bad limit (exit 2)", () => {
    const r = serve(["--dataset", "x", "--token", "t", "--memory", "lots"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--memory: not a size: "lots"/);
  });

  it("with a dataset that is not there (exit 3)", () => {
    const r = serve(["--dataset", "/nonexistent/dataset.jsonl", "--port", "0"], { SWEU_SERVE_TOKEN: "t" });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/dataset not found: \/nonexistent\/dataset.jsonl/);
  });
});
