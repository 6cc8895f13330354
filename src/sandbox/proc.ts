/** Process helpers for the OCI driver: binary-safe spawn with timeouts that kill process trees (Linux /proc). */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface RawResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
  durationMs: number;
}

/** Pids of every descendant of pid (Linux /proc), deepest last. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift() ?? -1) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export function killAll(pids: readonly number[]): void {
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/**
 * Spawn without a shell, keep binary output. When `merge` is set stderr is appended to stdout in
 * arrival order. On timeout: "term" sends SIGTERM, then SIGKILL after graceMs; "descendants" kills the
 * client's descendants (e.g. the processes of a build step) until the client gives up by itself, so it
 * can clean up after the failed step, and kills the client too after graceMs.
 */
export function spawnRaw(
  cmd: string,
  args: readonly string[],
  o: {
    input?: string | Buffer;
    timeoutMs?: number;
    graceMs?: number;
    onTimeout?: "term" | "descendants";
    merge?: boolean;
    maxBytes?: number;
  } = {},
): Promise<RawResult> {
  const max = o.maxBytes ?? 64 * 1024 * 1024;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const lens = [0, 0];
    const keep = (chunks: Buffer[], i: 0 | 1) => (c: Buffer) => {
      chunks.push(c);
      lens[i] = (lens[i] ?? 0) + c.length;
      // Drop whole chunks only while what remains still holds `max` bytes; tail() trims the rest exactly.
      while (chunks.length > 1 && (lens[i] ?? 0) - chunks[0]!.length >= max)
        lens[i] = (lens[i] ?? 0) - (chunks.shift()?.length ?? 0);
    };
    child.stdout.on("data", keep(out, 0));
    child.stderr.on("data", keep(o.merge ? out : err, o.merge ? 0 : 1));
    let timedOut = false;
    let killer: NodeJS.Timeout | undefined;
    let sweeper: NodeJS.Timeout | undefined;
    const timer =
      o.timeoutMs && o.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            const pid = child.pid ?? -1;
            if (o.onTimeout === "descendants") {
              killAll(descendants(pid));
              sweeper = setInterval(() => killAll(descendants(pid)), 500);
            } else child.kill("SIGTERM");
            killer = setTimeout(() => {
              killAll([pid, ...descendants(pid)]);
            }, o.graceMs ?? 0);
          }, o.timeoutMs)
        : undefined;
    child.on("error", (e) => {
      clearTimeout(timer);
      clearTimeout(killer);
      clearInterval(sweeper);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killer);
      clearInterval(sweeper);
      resolve({
        code: code ?? (signal === "SIGKILL" ? 137 : 143),
        stdout: tail(Buffer.concat(out), max),
        stderr: tail(Buffer.concat(err), max),
        timedOut,
        durationMs: Date.now() - started,
      });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(o.input ?? "");
  });
}

export function onPath(exe: string): boolean {
  if (exe.includes("/")) return existsSync(exe);
  return (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, exe)));
}

/** Host limit (soft) for a /proc/self/limits row, or undefined. */
export function hostLimit(row: string): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith(row));
    const soft = line?.slice(row.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

function tail(b: Buffer, max: number): Buffer {
  return b.length > max ? b.subarray(b.length - max) : b;
}
