/** A running container of the OCI driver (oci.ts): scripts run in it with `exec`, files go in and out. */
import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { posix } from "node:path";
import { InfraError, saysDiskFull } from "../util/causes.ts";
import type { RawResult, spawnRaw } from "./proc.ts";
import type { Container, ExecOutput } from "./sandbox.ts";

/** What a container needs of its driver (OciSandbox): the engine's command line and forgetting a container. */
export interface EngineCli {
  cli(rest: string[], o?: Parameters<typeof spawnRaw>[2]): Promise<RawResult>;
  cliOk(rest: string[], o?: { input?: string | Buffer; timeoutMs?: number }): Promise<string>;
  forget(name: string): Promise<void>;
}

export class OciContainer implements Container {
  readonly id: string;
  private readonly sb: EngineCli;
  private readonly name: string;
  private readonly defaultTimeoutMs: number | undefined;
  private removed = false;

  constructor(sb: EngineCli, name: string, id: string, defaultTimeoutMs: number | undefined) {
    this.sb = sb;
    this.name = name;
    this.id = id;
    this.defaultTimeoutMs = defaultTimeoutMs;
  }

  async exec(script: string, opts: Parameters<Container["exec"]>[1] = {}): Promise<ExecOutput> {
    if (this.removed) throw new Error(`container ${this.name} was removed`);
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    // Every process of this exec inherits the marker, so stragglers can be found and killed.
    const marker = `sweu-${randomBytes(6).toString("hex")}`;
    const env = { ...opts.env, SWEU_EXEC: marker };
    const secs = timeoutMs ? Math.max(1, Math.ceil(timeoutMs / 1000)) : 0;
    const inner = ["bash", "-c", 'exec 2>&1; exec bash -lc "$1"', "bash", script];
    const cmd = secs ? ["timeout", "-s", "KILL", String(secs), ...inner] : inner;
    const r = await this.sb.cli(
      [
        "exec",
        "-i",
        ...(opts.workdir ? ["-w", opts.workdir] : []),
        ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
        this.name,
        ...cmd,
      ],
      { timeoutMs: timeoutMs ? timeoutMs + 5_000 : undefined, merge: true, input: opts.input },
    );
    // In-container timeout kills with SIGKILL (exit 137); the host timer is the backstop.
    const timedOut = r.timedOut || (secs > 0 && r.code === 137 && r.durationMs >= secs * 1000 - 50);
    if (timedOut) await this.killMarked(marker);
    return { exitCode: r.code, output: r.stdout.toString(), timedOut, durationMs: r.durationMs };
  }

  /** Kill every process in the container whose environment carries the marker. */
  private async killMarked(marker: string): Promise<void> {
    const sh = `for p in /proc/[0-9]*; do grep -qsz "^SWEU_EXEC=${marker}$" "$p/environ" && kill -9 "\${p#/proc/}" 2>/dev/null; done; exit 0`;
    await this.sb.cli(["exec", this.name, "sh", "-c", sh], { timeoutMs: 30_000 }).catch(() => undefined);
  }

  async writeFile(path: string, content: string | Buffer, mode?: number): Promise<void> {
    const chmod = mode === undefined ? "" : ` && chmod ${mode.toString(8)} "$1"`;
    const sh = `mkdir -p "$(dirname "$1")" && cat > "$1"${chmod}`;
    const r = await this.sb.cli(["exec", "-i", this.name, "sh", "-c", sh, "sh", path], {
      input: content,
      timeoutMs: 120_000,
    });
    if (r.code !== 0) {
      const why = r.stderr.toString().trim();
      throw new InfraError(
        `writeFile ${path} failed (exit ${r.code}): ${why}`,
        saysDiskFull(why) ? "disk_full" : "engine",
      );
    }
  }

  async readFile(path: string): Promise<Buffer> {
    const r = await this.sb.cli(["exec", this.name, "cat", "--", path], { timeoutMs: 120_000 });
    if (r.code !== 0)
      throw new Error(`readFile ${path} failed (exit ${r.code}): ${r.stderr.toString().trim()}`);
    return r.stdout;
  }

  async copyIn(hostPath: string, containerPath: string): Promise<void> {
    // containerPath becomes a copy of hostPath (a directory's contents are merged into it).
    const isDir = statSync(hostPath).isDirectory();
    const mk = isDir ? containerPath : posix.dirname(containerPath);
    await this.sb.cliOk(["exec", this.name, "mkdir", "-p", mk]);
    await this.sb.cliOk(
      ["cp", isDir ? `${hostPath.replace(/\/+$/, "")}/.` : hostPath, `${this.name}:${containerPath}`],
      {
        timeoutMs: 600_000,
      },
    );
  }

  async commit(tag: string): Promise<void> {
    await this.sb.cliOk(["commit", this.name, tag], { timeoutMs: 600_000 });
  }

  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await this.sb.forget(this.name);
  }
}
