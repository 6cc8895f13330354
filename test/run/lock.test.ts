import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE, lockHolder, lockRunDir, RunDirBusy } from "../../src/run/lock.ts";

const dir = () => mkdtempSync(join(tmpdir(), "sweu-lock-"));
const writeLock = (d: string, o: Record<string, unknown>) =>
  writeFileSync(join(d, LOCK_FILE), JSON.stringify({ host: hostname(), verb: "mine", since: "then", ...o }));

/** A real live process and its start time as /proc says. */
function sleeper() {
  const p = spawn("sleep", ["30"], { stdio: "ignore" });
  const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
  return { p, started: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] };
}

describe("the run-folder lock", () => {
  it("is taken, named, and released", async () => {
    const d = dir();
    const lock = await lockRunDir(d, { verb: "build" });
    expect(lockHolder(d)).toMatchObject({ pid: process.pid, verb: "build" });
    lock!.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it("held by a live process: --no-wait fails at once naming it; waiting goes on once it is gone", async () => {
    const d = dir();
    const { p, started } = sleeper();
    try {
      writeLock(d, { pid: p.pid, started });
      await expect(lockRunDir(d, { verb: "mine", wait: false })).rejects.toThrow(RunDirBusy);
      await expect(lockRunDir(d, { verb: "mine", wait: false })).rejects.toThrow(`in use by pid ${p.pid}`);
      const waited: number[] = [];
      const taking = lockRunDir(d, { verb: "mine", pollMs: 50, onWait: (h) => waited.push(h.pid) });
      await new Promise((r) => setTimeout(r, 300));
      expect(waited).toEqual([p.pid]);
      p.kill("SIGKILL");
      const lock = await taking;
      expect(lockHolder(d)?.pid).toBe(process.pid);
      lock!.release();
    } finally {
      p.kill("SIGKILL");
    }
  });

  it("takes over the lock of a dead pid, and of a reused pid whose start time differs", async () => {
    const dead = dir();
    writeLock(dead, { pid: 2 ** 22 + 11 });
    (await lockRunDir(dead, { verb: "run", wait: false }))!.release();
    const reused = dir();
    const { p } = sleeper();
    try {
      writeLock(reused, { pid: p.pid, started: "1" });
      (await lockRunDir(reused, { verb: "run", wait: false }))!.release();
    } finally {
      p.kill("SIGKILL");
    }
  });

  it("stops waiting when its signal aborts", async () => {
    const d = dir();
    const { p, started } = sleeper();
    try {
      writeLock(d, { pid: p.pid, started });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      expect(await lockRunDir(d, { verb: "mine", signal: ac.signal, pollMs: 50 })).toBeUndefined();
    } finally {
      p.kill("SIGKILL");
    }
  });
});

describe("a lock file left unreadable", () => {
  it("is waited on while fresh (being written), taken over once it has stayed empty for 5 s", async () => {
    const d = dir();
    writeFileSync(join(d, LOCK_FILE), "");
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    expect(await lockRunDir(d, { verb: "mine", signal: ac.signal, pollMs: 50 })).toBeUndefined();
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(d, LOCK_FILE), old, old);
    const lock = await lockRunDir(d, { verb: "mine", wait: false });
    expect(lockHolder(d)?.pid).toBe(process.pid);
    lock!.release();
  });
});
