import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

/** Consumes a reply from the front of the output buffer, or says it needs more bytes. */
export type ReplyParser<T> = (buf: Buffer) => { value: T; consumed: number } | undefined;

interface Pending {
  parse: ReplyParser<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/**
 * One long-lived git process answering many requests on stdin/stdout (`git cat-file --batch`,
 * `git diff-tree --stdin`): thousands of lookups cost one process, not thousands. Requests are answered in
 * order. If the process dies, pending requests fail and the next request starts a fresh process.
 */
export class PipeProcess {
  private readonly cmd: string;
  private readonly args: string[];
  private readonly cwd: string;
  private child: ChildProcessWithoutNullStreams | undefined;
  private buf: Buffer = Buffer.alloc(0);
  private queue: Pending[] = [];
  private stderr = "";

  constructor(cmd: string, args: string[], cwd: string) {
    this.cmd = cmd;
    this.args = args;
    this.cwd = cwd;
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(this.cmd, this.args, { cwd: this.cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.buf = Buffer.alloc(0);
    this.stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
    child.stderr.on("data", (c: Buffer) => {
      this.stderr = (this.stderr + c.toString("utf8")).slice(-4000);
    });
    child.stdin.on("error", () => {});
    const fail = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      const err = new Error(`${this.cmd} ${this.args.join(" ")}: ${why}: ${this.stderr.trim()}`);
      for (const p of this.queue.splice(0)) p.reject(err);
    };
    child.on("error", (e) => fail(e.message));
    child.on("close", (code) => fail(`exited with ${code}`));
    return child;
  }

  private drain(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const r = head.parse(this.buf);
      if (!r) return;
      this.buf = this.buf.subarray(r.consumed);
      this.queue.shift();
      head.resolve(r.value);
    }
  }

  request<T>(input: string, parse: ReplyParser<T>): Promise<T> {
    this.child ??= this.start();
    const child = this.child;
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ parse, resolve: resolve as (v: unknown) => void, reject });
      child.stdin.write(input);
    });
  }

  close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("close", () => resolve());
      child.stdin.end();
      setTimeout(() => child.kill("SIGKILL"), 2000).unref();
    });
  }
}
