import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { makeProgram } from "../../src/cli/main.ts";

const BIN = resolve(import.meta.dirname, "../../bin/swe-universe");

function help(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(BIN, [...args, "--help"], { env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("close", (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

describe("swe-universe --help", () => {
  const verbs = makeProgram().commands.map((c) => c.name());

  it("registers the pipeline's verbs", () => {
    for (const v of ["mine", "build", "validate", "export", "evaluate", "run", "report"]) {
      expect(verbs).toContain(v);
    }
  });

  it("exits 0 with usage text for the program and for every verb", async () => {
    const results: { verb: string; code: number; stdout: string; stderr: string }[] = [];
    const queue = ["", ...verbs];
    const worker = async () => {
      for (let v = queue.shift(); v !== undefined; v = queue.shift()) {
        results.push({ verb: v, ...(await help(v ? [v] : [])) });
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    expect(results).toHaveLength(verbs.length + 1);
    for (const r of results) {
      expect(`${r.verb || "(program)"} exit ${r.code}`).toBe(`${r.verb || "(program)"} exit 0`);
      expect(r.stdout).toMatch(
        r.verb ? new RegExp(`^Usage: swe-universe ${r.verb} `) : /^Usage: swe-universe /,
      );
      expect(r.stdout).toMatch(/-h, --help/);
    }
    const top = results.find((r) => r.verb === "")!;
    for (const v of verbs) expect(top.stdout).toMatch(new RegExp(`^  ${v}\\b`, "m"));
  });
});
