/** A real OCI registry (Debian's docker-registry, the CNCF distribution server) on a free loopback port. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../queue/redis.ts";

export interface Registry {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string;
  /** Tags of a repository in the registry ([] when it has none). */
  tags(name: string): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startRegistry(port?: number): Promise<Registry> {
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "sweu-registry-"));
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
      `http: { addr: "127.0.0.1:${p}" }`,
      "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn("docker-registry", ["serve", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const host = `127.0.0.1:${p}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${out}`);
    const ok = await fetch(`http://${host}/v2/`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() - t0 > 15_000) throw new Error(`docker-registry did not answer on ${host}: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    async tags(name) {
      const r = await fetch(`http://${host}/v2/${name}/tags/list`);
      if (r.status === 404) return [];
      const body = (await r.json()) as { tags?: string[] | null };
      return body.tags ?? [];
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once("exit", () => resolve());
        proc.kill("SIGTERM");
      }),
  };
}
