import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { descendants, spawnRaw } from "../../src/sandbox/proc.ts";

/** Running (a killed process may stay a zombie until its new parent reaps it). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
};

describe("spawnRaw", () => {
  it("keeps binary output and merges stderr in arrival order", async () => {
    const r = await spawnRaw("sh", ["-c", "printf 'a\\000\\377'; echo b >&2; sleep 0.1; echo c"], {
      merge: true,
    });
    expect(r.code).toBe(0);
    expect([...r.stdout]).toEqual([...Buffer.from("a\0\xff", "latin1"), ...Buffer.from("b\nc\n")]);
  });

  it("keeps the tail when output exceeds maxBytes", async () => {
    const r = await spawnRaw("sh", ["-c", "seq 1 200000"], { maxBytes: 4096 });
    expect(r.stdout.length).toBe(4096);
    expect(r.stdout.toString().endsWith("199999\n200000\n")).toBe(true);
  });

  it("on timeout kills the descendants first and lets the client finish", async () => {
    const r = await spawnRaw("sh", ["-c", "sleep 300; echo step-killed; exit 5"], {
      timeoutMs: 300,
      graceMs: 5_000,
      onTimeout: "descendants",
    });
    expect(r).toMatchObject({ code: 5, timedOut: true });
    expect(r.stdout.toString()).toBe("step-killed\n");
    expect(r.durationMs).toBeLessThan(4_000);
  });

  it("kills the client and its whole tree after the grace period", async () => {
    const started = Date.now();
    const r = await spawnRaw("sh", ["-c", "trap '' TERM; sleep 300 & echo $!; wait"], {
      timeoutMs: 300,
      graceMs: 200,
    });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(4_000);
    const sleeper = Number(r.stdout.toString().trim());
    expect(sleeper).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(sleeper)).toBe(false);
  });

  it("finds a process's descendants", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn("sh", ["-c", "sh -c 'sleep 30' & wait"], { stdio: "ignore" });
    await new Promise((res) => setTimeout(res, 300));
    const pids = descendants(child.pid ?? -1);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    for (const p of pids) process.kill(p, "SIGKILL");
    child.kill("SIGKILL");
  });
});
