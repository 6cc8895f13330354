import { spawn } from "node:child_process";
import { InfraError, saysDiskFull } from "./causes.ts";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ExecOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Keep at most this many bytes of each stream (the tail). Default 8 MiB. */
  maxBuffer?: number;
}

/**
 * Run a program without a shell and collect its output. Never throws for a non-zero exit;
 * throws only when the program cannot be started at all (ENOENT).
 */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const max = opts.maxBuffer ?? 8 * 1024 * 1024;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const keep = (chunks: Buffer[], len: number, chunk: Buffer): number => {
      chunks.push(chunk);
      len += chunk.length;
      // Drop whole chunks only while what remains still holds `max` bytes.
      while (chunks.length > 1 && len - chunks[0]!.length >= max) len -= chunks.shift()!.length;
      return len;
    };
    child.stdout.on("data", (c: Buffer) => {
      outLen = keep(out, outLen, c);
    });
    child.stderr.on("data", (c: Buffer) => {
      errLen = keep(err, errLen, c);
    });
    let timedOut = false;
    const timer =
      opts.timeoutMs && opts.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, opts.timeoutMs)
        : undefined;
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.name === "AbortError") {
        resolve({
          exitCode: 130,
          stdout: "",
          stderr: "aborted",
          timedOut: false,
          durationMs: Date.now() - started,
        });
      } else reject(e);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        exitCode: code ?? (signal ? 128 + 9 : 1),
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        timedOut,
        durationMs: Date.now() - started,
      });
    });
    child.stdin.on("error", () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/**
 * run() that throws with the command's stderr when it exits non-zero. The tools run this way (git, tar,
 * debootstrap) are ours, not a project's: their own message saying the disk is full is the machine's
 * cause, so the error carries it.
 */
export async function runOk(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.exitCode !== 0 || r.timedOut) {
    const why = r.stderr.trim() || r.stdout.trim();
    const message = `${cmd} ${args.join(" ")} failed (exit ${r.exitCode}${r.timedOut ? ", timed out" : ""}): ${why}`;
    if (saysDiskFull(why)) throw new InfraError(message.slice(0, 4000), "disk_full");
    throw new Error(message.slice(0, 4000));
  }
  return r.stdout;
}
