/**
 * The session command script (src/serve/exec.ts) run by this machine's own bash, as a container's bash
 * would run it: output capping at the exact boundary, exit codes, stateful shells, a command that exits
 * its shell. And the workspace path rule. No containers: these need no lock.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Container } from "../../src/sandbox/sandbox.ts";
import { ServeError } from "../../src/serve/errors.ts";
import { execIn, execScript } from "../../src/serve/exec.ts";
import { workspacePath } from "../../src/serve/paths.ts";
import { loadDatasets } from "../../src/serve/service.ts";

/** A "container" that is this host: exec runs bash -c, as OciContainer runs bash -lc in the container. */
const host = {
  async exec(script: string, o: { timeoutMs?: number; env?: Record<string, string> } = {}) {
    const t0 = Date.now();
    const r = spawnSync("bash", ["-c", script], {
      env: { ...process.env, ...o.env },
      timeout: o.timeoutMs,
      maxBuffer: 1 << 28,
    });
    const timedOut = r.error !== undefined && /ETIMEDOUT/.test(String(r.error));
    return {
      exitCode: r.status ?? 137,
      output: Buffer.concat([r.stdout, r.stderr]).toString(),
      timedOut,
      durationMs: Date.now() - t0,
    };
  },
} as unknown as Container;

const execScriptFor = (stateDir: string) =>
  execScript(
    { command: 'echo -n "$SWEU_EXEC"', timeoutMs: 10_000, capBytes: 100, stateDir },
    "\u0001S\u0001",
  );

const run = (command: string, o: { capBytes?: number; stateDir?: string; cwd?: string } = {}) =>
  execIn(host, { command, timeoutMs: 30_000, capBytes: o.capBytes ?? 1000, ...o });

describe("serve exec script (host bash)", () => {
  it("returns output and exit code as they are under the cap", async () => {
    const r = await run("echo out; echo err >&2; exit 7");
    expect(r).toMatchObject({ exit_code: 7, truncated: false, oom_killed: false, timed_out: false });
    expect(r.output.split("\n").sort()).toEqual(["", "err", "out"]);
  });

  it("keeps the first and last halves of long output, cut exactly at the cap", async () => {
    const exact = await run("head -c 1000 /dev/zero | tr '\\0' x", { capBytes: 1000 });
    expect(exact).toMatchObject({ truncated: false, exit_code: 0 });
    expect(exact.output).toBe("x".repeat(1000));
    const over = await run("printf 'A%.0s' $(seq 600); printf 'B%.0s' $(seq 500)", { capBytes: 1000 });
    expect(over.truncated).toBe(true);
    expect(over.output.startsWith("A".repeat(500))).toBe(true);
    expect(over.output.endsWith(`\n${"B".repeat(500)}`)).toBe(true);
    expect(over.output).toContain("output truncated");
    const big = await run("head -c 50000000 /dev/zero; echo done", { capBytes: 64 });
    expect(big.output.endsWith("done\n")).toBe(true);
  });

  it("runs each command in a fresh shell unless it names a state folder, which keeps cwd and exports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-exec-"));
    expect((await run("cd / && export X=1")).exit_code).toBe(0);
    expect((await run('echo "${X:-unset}"', { cwd: dir })).output.trim()).toBe("unset");
    const state = join(dir, "state");
    await run(`cd ${dir} && mkdir -p sub && cd sub && export GREETING=hi`, { stateDir: state });
    const r = await run('pwd; echo "$GREETING"', { stateDir: state });
    expect(r.output.trim().split("\n")).toEqual([join(dir, "sub"), "hi"]);
    // Each command keeps its own exec marker (a timeout kills what carries it), not the last one's.
    const marks: string[] = [];
    for (const m of ["A", "B"])
      marks.push(
        (await host.exec(execScriptFor(state), { env: { SWEU_EXEC: m } })).output.split("\u0001")[0]!,
      );
    expect(marks).toEqual(["A", "B"]);
    // `exit` ends the shell: the exit code still comes back, the state stays as it was.
    expect((await run("exit 4", { stateDir: state })).exit_code).toBe(4);
    expect((await run("pwd", { stateDir: state })).output.trim()).toBe(join(dir, "sub"));
  });

  it("a syntax error in a stateful shell is the command's failure, not the script's", async () => {
    const r = await run("if then fi", { stateDir: mkdtempSync(join(tmpdir(), "sweu-exec-")) });
    expect(r.exit_code).toBe(2);
    expect(r.output).toMatch(/syntax error/);
  });
});

describe("workspace paths", () => {
  it("takes relative paths under /testbed and absolute ones inside it", () => {
    expect(workspacePath("calc/ops.py")).toBe("/testbed/calc/ops.py");
    expect(workspacePath("/testbed/a/../b/./c")).toBe("/testbed/b/c");
    expect(workspacePath(".")).toBe("/testbed");
  });

  it("refuses paths that climb out, point elsewhere or hold NUL", () => {
    for (const p of [
      "../etc/passwd",
      "/etc/passwd",
      "a/../../x",
      "/testbed/../testbed2/x",
      "/testbedx",
      "a\0b",
    ]) {
      expect(() => workspacePath(p), p).toThrow(ServeError);
    }
  });
});

describe("datasets to serve", () => {
  it("refuses a dataset with no instances before listening", () => {
    const f = join(mkdtempSync(join(tmpdir(), "sweu-serve-empty-")), "dataset.jsonl");
    writeFileSync(f, "");
    expect(() => loadDatasets([f])).toThrow(/no instances in .*dataset\.jsonl: nothing to serve/);
  });
});
