/** A real redis-server on a free loopback port, owned by the test that starts it. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Stop (all data lost: no persistence) and start again on the same port. */
  restart(downMs?: number): Promise<void>;
}

async function launch(port: number): Promise<ChildProcess> {
  const p = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    p.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("Ready to accept connections")) {
        clearTimeout(t);
        resolve();
      }
    });
    p.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
  });
  return p;
}

function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    p.once("exit", () => resolve());
    p.kill("SIGTERM");
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let proc = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopProc(proc),
    async restart(downMs = 1000) {
      await stopProc(proc);
      await new Promise((r) => setTimeout(r, downMs));
      proc = await launch(port);
    },
  };
}
