/**
 * OCI sandbox driver over the docker or podman command line. Everything engine-specific sits in
 * ENGINES (engines.ts, a small table); the rest is shared. Containers are long-lived (`sleep`-style init)
 * and scripts run in them with `exec`, each under an in-container `timeout -s KILL` plus a host-side timer.
 * The process-wide registry of live containers and their removal at a signal is session.ts.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineErrorLines, InfraError, saysDiskFull } from "../util/causes.ts";
import { log } from "../util/log.ts";
import { pidAlive } from "../util/pid.ts";
import { defaultUlimits, detectEngine, ENGINES, type EngineName, type EngineTable } from "./engines.ts";
import { OciContainer } from "./oci-container.ts";
import { onPath, type RawResult, spawnRaw } from "./proc.ts";
import { insecureRegistry } from "./registry-host.ts";
import type { BuildResult, BuildSpec, Container, ContainerSpec, Sandbox, TransferResult } from "./sandbox.ts";
import { installHandlers, SESSION, SESSION_LABEL, trackContainer, untrackContainer } from "./session.ts";

export type { EngineName };

export interface OciOptions {
  /** Engine kind; decides the flag table. Default: detected from the executable's name. */
  engine?: EngineName;
  /** CLI to call, e.g. "podman" or "/usr/bin/docker". Default: the engine's name. */
  executable?: string;
  /** OCI runtime for podman (`--runtime`). Default: SWEU_OCI_RUNTIME, else "runc" when runc is installed. "" = engine default. */
  runtime?: string;
  /** ulimits passed to run and build, e.g. ["nofile=16384:16384", "nproc=4096:4096"]. Default: SWEU_OCI_ULIMITS (comma-separated) or a table default capped by the host's. */
  ulimits?: string[];
}

/** PID 1 of every container: reaps orphans, exits at once on TERM. */
const INIT_SCRIPT = 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done';

export class OciSandbox implements Sandbox {
  readonly engine: EngineName;
  readonly executable: string;
  readonly runtime: string;
  readonly ulimits: string[];
  private readonly table: EngineTable;
  private readonly mine = new Set<string>();

  constructor(opts: OciOptions = {}) {
    const exeName = opts.executable?.split("/").pop() ?? "";
    this.engine =
      opts.engine ??
      (exeName.includes("docker") ? "docker" : exeName.includes("podman") ? "podman" : detectEngine());
    this.executable = opts.executable ?? this.engine;
    this.runtime =
      opts.runtime ??
      process.env.SWEU_OCI_RUNTIME ??
      (this.engine === "podman" && onPath("runc") ? "runc" : "");
    this.ulimits = opts.ulimits ?? defaultUlimits();
    this.table = ENGINES[this.engine];
  }

  /** Arguments for one engine call (global flags first). */
  args(...rest: string[]): string[] {
    return [...this.table.global({ runtime: this.runtime }), ...rest];
  }

  private storage: Promise<string | undefined> | undefined;

  /** Where the engine keeps images and containers (undefined when it cannot say). */
  storagePath(): Promise<string | undefined> {
    this.storage ??= this.cli(["info", "--format", this.table.storageInfo], { timeoutMs: 60_000 })
      .then((r) => (r.code === 0 ? r.stdout.toString().trim() || undefined : undefined))
      .catch(() => undefined);
    return this.storage;
  }

  /** Run the engine CLI; binary-safe. */
  cli(rest: string[], o: Parameters<typeof spawnRaw>[2] = {}): Promise<RawResult> {
    return spawnRaw(this.executable, this.args(...rest), o).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e;
      throw new Error(
        `container engine "${this.executable}" not found: install podman or docker, or choose another sandbox`,
      );
    });
  }

  /** Run the engine CLI and throw on failure; returns stdout as text. */
  async cliOk(rest: string[], o: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.cli(rest, { timeoutMs: 120_000, ...o });
    if (r.code !== 0 || r.timedOut) {
      const why = (r.stderr.toString() || r.stdout.toString()).trim().slice(0, 2000);
      // The engine's own message (these calls print no container output): its cause is known here.
      throw new InfraError(
        `${this.executable} ${rest[0]} failed (exit ${r.code}${r.timedOut ? ", timed out" : ""}): ${why}`,
        saysDiskFull(why) ? "disk_full" : "engine",
      );
    }
    return r.stdout.toString();
  }

  /**
   * Build an image. Podman's layer-cache lookup can race with an image being removed by another process
   * ("layer not known"): such a build failed before running any step of ours, so it is tried again.
   */
  async build(spec: BuildSpec): Promise<BuildResult> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.buildOnce(spec);
      if (r.ok || attempt >= 3 || !/layer not known|image not known/i.test(r.log)) return r;
      log.warn({ tag: spec.tag, attempt }, "image build hit a layer removed under it; building again");
    }
  }

  private async buildOnce(spec: BuildSpec): Promise<BuildResult> {
    const dir = mkdtempSync(join(tmpdir(), "sweu-build-"));
    try {
      const file = join(dir, "Dockerfile");
      writeFileSync(file, spec.dockerfile);
      const labels = { sweu: "1", ...spec.labels };
      const args = [
        "build",
        ...this.table.build,
        "-f",
        file,
        "-t",
        spec.tag,
        ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
        ...(spec.network === false ? ["--network", "none"] : []),
        ...this.table.limits({ ulimits: this.ulimits }),
        spec.contextDir,
      ];
      const r = await this.cli(args, {
        timeoutMs: spec.timeoutMs,
        graceMs: 30_000,
        onTimeout: "descendants",
        merge: true,
      });
      const logText = r.stdout.toString();
      const ok = r.code === 0 && !r.timedOut;
      return {
        ok,
        log: r.timedOut ? `${logText}\n[sweu] build timed out after ${spec.timeoutMs} ms` : logText,
        durationMs: r.durationMs,
        timedOut: r.timedOut,
        // Only the engine's own closing error lines, never the steps' output, can say the disk is full.
        ...(!ok && saysDiskFull(engineErrorLines(logText)) ? { cause: "disk_full" as const } : {}),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async imageExists(tag: string): Promise<boolean> {
    const r = await this.cli(["image", "inspect", "--format", "{{.Id}}", tag], { timeoutMs: 60_000 });
    return r.code === 0;
  }

  async imagesPresent(tags: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < tags.length; i += 200) {
      // Found images print their tags; a missing one is an error line (and a non-zero exit) of its own.
      const batch = tags.slice(i, i + 200);
      const r = await this.cli(["image", "inspect", "--format", "{{.RepoTags}}", ...batch], {
        timeoutMs: 60_000,
      });
      const named = new Set(r.stdout.toString().replace(/[[\]]/g, " ").split(/\s+/).filter(Boolean));
      for (const t of batch) if (named.has(t) || named.has(`${t}:latest`)) found.add(t);
    }
    return found;
  }

  async imageSize(tag: string): Promise<number | undefined> {
    const r = await this.cli(["image", "inspect", "--format", "{{.Size}}", tag], { timeoutMs: 60_000 });
    const n = Number(r.stdout.toString().trim());
    return r.code === 0 && Number.isFinite(n) ? n : undefined;
  }

  async removeImage(tag: string): Promise<void> {
    if (!(await this.imageExists(tag))) return;
    await this.cliOk(["rmi", "-f", tag]);
  }

  /** Pull an image; false when it cannot be pulled within the time limit. */
  async pullImage(ref: string, timeoutMs = 20_000): Promise<boolean> {
    return (await this.pull(ref, { timeoutMs })).ok;
  }

  async pull(ref: string, o: { timeoutMs?: number; as?: string } = {}): Promise<TransferResult> {
    const timeoutMs = o.timeoutMs ?? 1_800_000;
    const tls = this.engine === "podman" && insecureRegistry(ref) ? ["--tls-verify=false"] : [];
    const r = await this.cli(["pull", ...tls, ref], { timeoutMs, graceMs: 2_000 });
    if (r.code === 0 && !r.timedOut) {
      if (!o.as || o.as === ref) return { ok: true };
      try {
        await this.cliOk(["tag", ref, o.as]);
      } catch (e) {
        return { ok: false, error: (e instanceof Error ? e.message : String(e)).slice(0, 500) };
      }
      // The registry name was only for the pull: the image keeps its local name.
      await this.cli(["rmi", ref], { timeoutMs: 60_000 }).catch(() => {});
      return { ok: true };
    }
    const why = r.timedOut
      ? `timed out after ${Math.round(timeoutMs / 1000)} s`
      : (r.stderr.toString().trim().split("\n").filter(Boolean).pop() ?? `exit ${r.code}`);
    log.info({ ref, err: r.stderr.toString().trim().slice(-500) }, "pull failed");
    return { ok: false, error: why.slice(0, 500) };
  }

  async ping(o: { timeoutMs?: number } = {}): Promise<TransferResult> {
    const timeoutMs = o.timeoutMs ?? 60_000;
    try {
      const r = await this.cli(["info"], { timeoutMs });
      if (r.code === 0 && !r.timedOut) return { ok: true };
      const why = r.timedOut
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : r.stderr.toString().trim().split("\n").pop() || `exit ${r.code}`;
      return { ok: false, error: why };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  async push(image: string, ref: string, o: { timeoutMs?: number } = {}): Promise<TransferResult> {
    const tls = this.engine === "podman" && insecureRegistry(ref) ? ["--tls-verify=false"] : [];
    try {
      await this.cliOk(["tag", image, ref]);
      await this.cliOk(["push", ...tls, ref], { timeoutMs: o.timeoutMs ?? 1_800_000 });
      return { ok: true };
    } catch (e) {
      return { ok: false, error: (e instanceof Error ? e.message : String(e)).trim().slice(0, 2000) };
    } finally {
      // The registry name was only for the push: untag it (the image keeps its own name).
      if (ref !== image) await this.cli(["rmi", ref], { timeoutMs: 60_000 }).catch(() => {});
    }
  }

  /** Import a root filesystem directory as an image (`tar -C dir -c . | <engine> import - tag`). */
  async importRootfs(dir: string, tag: string, changes: readonly string[] = []): Promise<void> {
    const args = this.args("import", ...changes.flatMap((c) => ["--change", c]), "-", tag);
    const tar = spawn("tar", ["-C", dir, "--numeric-owner", "-c", "."], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const imp = spawn(this.executable, args, { stdio: ["pipe", "pipe", "pipe"] });
    tar.stdout.pipe(imp.stdin);
    imp.stdin.on("error", () => {});
    imp.stdout.resume();
    let err = "";
    const collect = (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    };
    tar.stderr.on("data", collect);
    imp.stderr.on("data", collect);
    const exited = (p: ReturnType<typeof spawn>) =>
      new Promise<number | null>((resolve) => {
        p.on("error", (e) => {
          collect(Buffer.from(String(e)));
          resolve(-1);
        });
        p.on("close", (code) => resolve(code));
      });
    const [tarCode, impCode] = await Promise.all([exited(tar), exited(imp)]);
    if (tarCode !== 0 || impCode !== 0) {
      throw new Error(
        `import of ${dir} as ${tag} failed (tar ${tarCode}, import ${impCode}): ${err.trim().slice(-2000)}`,
      );
    }
  }

  async start(spec: ContainerSpec): Promise<Container> {
    installHandlers();
    const name = `sweu-${SESSION}-${randomBytes(4).toString("hex")}`;
    const labels = { ...spec.labels, sweu: "1", [SESSION_LABEL]: SESSION };
    const l = spec.limits ?? {};
    const args = [
      "run",
      "-d",
      "--name",
      name,
      ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      ...(spec.network ? [] : ["--network", "none"]),
      ...(l.memory ? ["--memory", l.memory] : []),
      ...(l.pids ? ["--pids-limit", String(l.pids)] : []),
      ...(l.cpus ? ["--cpus", String(l.cpus)] : []),
      ...this.table.limits({ ulimits: this.ulimits }),
      ...(spec.workdir ? ["-w", spec.workdir] : []),
      ...Object.entries(spec.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      "--entrypoint",
      "/bin/sh",
      spec.image,
      "-c",
      INIT_SCRIPT,
    ];
    // Register the name before the call: a container half-created when the call fails is still removed.
    this.track(name);
    try {
      const id = (await this.cliOk(args)).trim().split("\n").pop() ?? name;
      return new OciContainer(this, name, id, spec.limits?.timeoutMs);
    } catch (e) {
      await this.forget(name);
      throw e;
    }
  }

  private track(name: string): void {
    this.mine.add(name);
    trackContainer(name, { exe: this.executable, global: this.args(), rm: this.table.forceRemove });
  }

  /** Remove a container (idempotent) and stop tracking it. */
  async forget(name: string): Promise<void> {
    const r = await this.cli([...this.table.forceRemove, name], { timeoutMs: 60_000 });
    const gone = r.code === 0 || /no such container|no container with name/i.test(r.stderr.toString());
    if (!gone) log.warn({ name, err: r.stderr.toString().trim() }, "container removal failed");
    this.mine.delete(name);
    untrackContainer(name);
  }

  /**
   * Leftovers of killed processes. Every container carries `sweu.session=<pid>-<rand>` and is named
   * `sweu-<session>-<rand>`; a process killed with SIGKILL removes nothing, so the next start removes the
   * containers whose session pid is no longer alive on this host (a live pid, even a reused one, keeps them).
   */
  async reapOrphans(): Promise<string[]> {
    const ps = await this.cli(["ps", "-a", "--filter", `label=${SESSION_LABEL}`, "--format", "{{.Names}}"], {
      timeoutMs: 60_000,
    });
    if (ps.code !== 0) {
      log.warn({ err: ps.stderr.toString().trim() }, "listing containers for orphan removal failed");
      return [];
    }
    const dead: string[] = [];
    for (const line of ps.stdout.toString().split("\n")) {
      // Label templates differ between docker and podman, names do not.
      const m = /^sweu-(\d+)-[0-9a-f]+-[0-9a-f]+$/.exec(line.trim());
      if (m && !pidAlive(Number(m[1]))) dead.push(line.trim());
    }
    await Promise.all(dead.map((n) => this.forget(n)));
    if (dead.length) log.info({ containers: dead.length }, "removed containers left by dead processes");
    return dead;
  }

  async cleanup(): Promise<void> {
    const names = new Set(this.mine);
    // Containers from this process that the registry lost track of (e.g. a crash mid-start).
    const ps = await this.cli(["ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`], {
      timeoutMs: 60_000,
    });
    for (const id of ps.stdout.toString().split(/\s+/).filter(Boolean)) names.add(id);
    await Promise.all([...names].map((n) => this.forget(n)));
  }
}
