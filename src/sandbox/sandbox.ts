/**
 * The sandbox seam: build images and run throw-away containers. Stages only see this interface;
 * the OCI driver (docker/podman CLI) sits behind it today, Kubernetes can sit beside it.
 */

export interface Limits {
  /** Wall-clock limit for one exec, ms. */
  timeoutMs?: number;
  /** Memory limit, e.g. "4g". */
  memory?: string;
  /** Max processes in the container. */
  pids?: number;
  cpus?: number;
}

export interface ExecOutput {
  exitCode: number;
  /** stdout and stderr interleaved as the program wrote them (2>&1). */
  output: string;
  timedOut: boolean;
  durationMs: number;
}

export interface ContainerSpec {
  image: string;
  /** false = no network at all (evaluation). Default false. */
  network?: boolean;
  limits?: Limits;
  env?: Record<string, string>;
  workdir?: string;
  /** Label every container so leftovers can be found and removed. */
  labels?: Record<string, string>;
}

export interface Container {
  readonly id: string;
  /** Run a bash script inside the container (bash -lc). */
  exec(
    script: string,
    opts?: {
      timeoutMs?: number;
      workdir?: string;
      env?: Record<string, string>;
      /** The exec's stdin (default: none, at end of file). */
      input?: string | Buffer;
    },
  ): Promise<ExecOutput>;
  writeFile(path: string, content: string | Buffer, mode?: number): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  /** Copy a host file or directory into the container. */
  copyIn(hostPath: string, containerPath: string): Promise<void>;
  /** Snapshot the container's filesystem as an image (used for thin per-instance layers). */
  commit(tag: string): Promise<void>;
  /** Stop and remove. Safe to call twice. */
  remove(): Promise<void>;
}

export interface BuildSpec {
  tag: string;
  dockerfile: string;
  /** Build context directory on the host. */
  contextDir: string;
  timeoutMs?: number;
  network?: boolean;
  labels?: Record<string, string>;
}

export interface BuildResult {
  ok: boolean;
  log: string;
  durationMs: number;
  timedOut: boolean;
  /** Set when the engine itself said why it failed in a way that is the machine's (its disk is full). */
  cause?: "disk_full";
}

/** How a pull or a push ended; `error` says why in one engine-given line or two. */
export interface TransferResult {
  ok: boolean;
  error?: string;
}

export interface Sandbox {
  /** "docker", "podman", … */
  readonly engine: string;
  build(spec: BuildSpec): Promise<BuildResult>;
  imageExists(tag: string): Promise<boolean>;
  /**
   * Which of `tags` are on this machine, in one engine call for a batch of them instead of one each (a tag
   * left out may still be there under another spelling: ask `imageExists`).
   */
  imagesPresent?(tags: string[]): Promise<Set<string>>;
  /** Whether the engine answers at all (`info`); `error` says why not. Verbs ask before they start work. */
  ping(o?: { timeoutMs?: number }): Promise<TransferResult>;
  /**
   * Pull an image reference from its registry (loopback registries over plain HTTP). With `as`, the pulled
   * image is tagged under that local name instead (an environment another worker pushed, by its own tag).
   */
  pull(ref: string, o?: { timeoutMs?: number; as?: string }): Promise<TransferResult>;
  /** Push a local image under another reference (tagged for the push, untagged after). One try. */
  push(image: string, ref: string, o?: { timeoutMs?: number }): Promise<TransferResult>;
  imageSize(tag: string): Promise<number | undefined>;
  removeImage(tag: string): Promise<void>;
  start(spec: ContainerSpec): Promise<Container>;
  /** Remove every container this process started that is still around (also called on SIGINT/SIGTERM). */
  cleanup(): Promise<void>;
  /**
   * Remove containers left by processes of ours that died without cleaning up (SIGKILL); returns their
   * names. Conservative: a live process keeps its containers.
   */
  reapOrphans(): Promise<string[]>;
  /** Host folder where the engine stores images and containers, when it is local (watched for free space). */
  storagePath?(): Promise<string | undefined>;
}

/**
 * The methods of `sb` that a wrapping sandbox passes through as they are: a wrapper (resource limits, a
 * warm pool) spreads these and writes only the methods it changes.
 */
export function passThrough(sb: Sandbox): Omit<Sandbox, "start"> {
  return {
    engine: sb.engine,
    build: (spec) => sb.build(spec),
    imageExists: (tag) => sb.imageExists(tag),
    ping: (o) => sb.ping(o),
    pull: (ref, o) => sb.pull(ref, o),
    push: (image, ref, o) => sb.push(image, ref, o),
    imageSize: (tag) => sb.imageSize(tag),
    removeImage: (tag) => sb.removeImage(tag),
    cleanup: () => sb.cleanup(),
    reapOrphans: () => sb.reapOrphans(),
    storagePath: sb.storagePath && (() => sb.storagePath!()),
    imagesPresent: sb.imagesPresent && ((tags) => sb.imagesPresent!(tags)),
  };
}
