/** Real CLI child processes for tests: spawn, read stderr lines, wait for one. */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
export const CLI = join(ROOT, "src", "cli", "main.ts");

export interface CliProc {
  proc: ChildProcess;
  pid: number;
  out: () => string;
  err: () => string;
  /** Resolves with the first stderr line matching `re` (also one already printed). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** `detached`: the CLI leads a process group of its own (a terminal's job, a supervisor's unit). */
export function spawnCli(
  args: string[],
  env: Record<string, string> = {},
  o: { detached?: boolean } = {},
): CliProc {
  const proc = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: o.detached,
  });
  let out = "";
  let err = "";
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
    for (const w of [...waiters]) {
      const line = err.split("\n").find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    proc,
    pid: proc.pid ?? -1,
    out: () => out,
    err: () => err,
    exited,
    waitFor(re, timeoutMs = 120_000) {
      const line = err.split("\n").find((l) => re.test(l));
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; stderr:\n${err.slice(-3000)}`)),
          timeoutMs,
        );
        const w = {
          re,
          resolve: (l: string) => {
            clearTimeout(t);
            resolve(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(t);
            reject(new Error(`process exited before ${re}; stderr:\n${err.slice(-3000)}`));
          }
        });
      });
    },
  };
}
