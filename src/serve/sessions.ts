/**
 * Sessions: one fresh container per session (from the warm pool when the session asks for the default
 * limits), networking off unless the server allows it, memory and process limits through the sandbox's
 * ContainerSpec, a lifetime and an idle limit (a reaper closes what outlives them), and a cap on the
 * sessions this process holds. Requests on one session run one at a time, in order. A closed session
 * leaves a tombstone, so a late request learns why it is gone instead of "unknown".
 */
import { randomBytes } from "node:crypto";
import type { Instance } from "../records/index.ts";
import { ensureImage } from "../sandbox/image.ts";
import type { Container, ContainerSpec, Limits, Sandbox } from "../sandbox/sandbox.ts";
import { log } from "../util/log.ts";
import { Semaphore } from "../util/semaphore.ts";
import { parseSize } from "../util/size.ts";
import type { SessionInfo, StartRequest } from "./api.ts";
import { ServeError } from "./errors.ts";
import { WORKSPACE } from "./paths.ts";
import { specKey, WarmPool } from "./pool.ts";

export interface ServeLimits {
  /** Default and maximum memory per session ("4g"); undefined = no limit. */
  memory?: string;
  pids: number;
  lifetimeS: number;
  idleS: number;
  /** Default and maximum time of one command. */
  execTimeoutS: number;
}

export interface ServeConfig {
  /** This process's id in session ids and in the cluster registry. */
  node: string;
  limits: ServeLimits;
  allowNetwork: boolean;
  maxSessions: number;
  /** Submissions graded at once (each is a container running the test suite). */
  maxGrading: number;
  /** Containers being created at once (cold starts). */
  maxStarting: number;
  /** Bytes of a command's output returned (first half + last half). */
  outputCapBytes: number;
  /** Largest file a read returns. */
  maxFileBytes: number;
  /** Largest patch a submit takes, file a write takes or diff a submit grades. */
  maxUploadBytes: number;
  /** evaluation.sh's time limit when grading (evaluate's --timeout). */
  gradeTimeoutS: number;
  /** Limits of grading containers; none by default, as `evaluate` runs them. */
  gradeLimits?: Limits;
  warm: { perSpec: number; max: number };
}

export interface Session {
  readonly id: string;
  readonly inst: Instance;
  readonly image: string;
  readonly container: Container;
  readonly info: SessionInfo;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly idleMs: number;
  lastActive: number;
  busy: number;
  closed?: string;
  tail: Promise<unknown>;
  /** SWE-ReX shell names → their state folder in the container. */
  readonly shells: Map<string, string>;
}

const TOMBSTONES = 10_000;

export function newNodeId(): string {
  return `n${randomBytes(4).toString("hex")}`;
}

/** The serve process a session id names (ids are `<node>.<random>`). */
export function nodeOf(sessionId: string): string | undefined {
  const m = /^(n[0-9a-f]{8})\.[0-9a-f]{16}$/.exec(sessionId);
  return m?.[1];
}

export class SessionManager {
  readonly config: ServeConfig;
  readonly sandbox: Sandbox;
  readonly pool: WarmPool;
  readonly instances: ReadonlyMap<string, Instance>;
  private readonly sessions = new Map<string, Session>();
  private readonly tombstones = new Map<string, string>();
  private readonly images = new Map<string, Promise<string>>();
  private readonly grading: Semaphore;
  private readonly starting: Semaphore;
  private pendingStarts = 0;
  private reaper: NodeJS.Timeout | undefined;

  constructor(sandbox: Sandbox, instances: readonly Instance[], config: ServeConfig) {
    this.sandbox = sandbox;
    this.config = config;
    this.instances = new Map(instances.map((i) => [i.instance_id, i]));
    this.pool = new WarmPool(sandbox, config.warm);
    this.grading = new Semaphore(config.maxGrading);
    this.starting = new Semaphore(config.maxStarting);
    // A pass over the sessions is a map walk: once a second keeps a session's idle limit to the second.
    this.reaper = setInterval(() => void this.reap(), 1_000);
    this.reaper.unref();
  }

  get count(): number {
    return this.sessions.size;
  }

  list(): SessionInfo[] {
    return [...this.sessions.values()].map((s) => s.info);
  }

  instance(id: string): Instance {
    const inst = this.instances.get(id);
    if (!inst)
      throw new ServeError(
        "unknown_instance",
        `no instance "${id}" in the served dataset (GET /v1/tasks lists the ${this.instances.size} there are)`,
      );
    return inst;
  }

  /** The instance's image here (pulled from image_name when missing), once per instance. */
  image(inst: Instance): Promise<string> {
    let p = this.images.get(inst.instance_id);
    if (!p) {
      p = ensureImage(this.sandbox, inst).then((r) => {
        if (r.ok) return r.image;
        throw new ServeError("image_unavailable", r.error);
      });
      p.catch(() => this.images.delete(inst.instance_id));
      this.images.set(inst.instance_id, p);
    }
    return p;
  }

  sessionSpec(image: string, o: { network?: boolean; memory?: string; pids?: number } = {}): ContainerSpec {
    const memory = o.memory ?? this.config.limits.memory;
    return {
      image,
      network: o.network ?? false,
      limits: { ...(memory ? { memory } : {}), pids: o.pids ?? this.config.limits.pids },
      labels: { "sweu.role": "serve-session", "sweu.serve.node": this.config.node },
    };
  }

  gradeSpec(image: string): ContainerSpec {
    return {
      image,
      network: false,
      ...(this.config.gradeLimits ? { limits: this.config.gradeLimits } : {}),
      labels: { "sweu.role": "serve-grade", "sweu.serve.node": this.config.node },
    };
  }

  /** Fill the warm pools of these instances' images before the first session asks. */
  async prewarm(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const image = await this.image(this.instance(id));
      this.pool.prewarm(this.sessionSpec(image));
      this.pool.prewarm(this.gradeSpec(image));
    }
  }

  private checkStart(req: StartRequest): void {
    if (req.network && !this.config.allowNetwork)
      throw new ServeError(
        "network_refused",
        "this server runs sessions without network (start it with --allow-network to permit network: true)",
      );
    const max = this.config.limits;
    if (req.memory && max.memory && parseSize(req.memory) > parseSize(max.memory))
      throw new ServeError("bad_request", `memory ${req.memory} is over the server's limit ${max.memory}`);
    if (req.pids && req.pids > max.pids)
      throw new ServeError("bad_request", `pids ${req.pids} is over the server's limit ${max.pids}`);
    if (req.lifetime_s && req.lifetime_s > max.lifetimeS)
      throw new ServeError(
        "bad_request",
        `lifetime_s ${req.lifetime_s} is over the server's limit ${max.lifetimeS}`,
      );
    if (req.idle_timeout_s && req.idle_timeout_s > max.lifetimeS)
      throw new ServeError(
        "bad_request",
        `idle_timeout_s ${req.idle_timeout_s} is over the session lifetime`,
      );
    if (this.sessions.size + this.pendingStarts >= this.config.maxSessions)
      throw new ServeError(
        "capacity",
        `this serve process holds ${this.sessions.size} sessions, its limit (--max-sessions ${this.config.maxSessions}): close one or try again later`,
        { retry_after_s: 1 },
      );
  }

  async start(req: StartRequest): Promise<SessionInfo> {
    const inst = this.instance(req.instance_id);
    this.checkStart(req);
    this.pendingStarts++;
    try {
      const t0 = Date.now();
      const image = await this.image(inst);
      const spec = this.sessionSpec(image, req);
      // The pool holds containers with the server's defaults; a session asking for others gets its own.
      const defaults = specKey(spec) === specKey(this.sessionSpec(image));
      const { container, warm } = await this.starting.with(() =>
        defaults
          ? this.pool.take(spec)
          : this.sandbox.start(spec).then((c) => ({ container: c, warm: false })),
      );
      // A submit will want a fresh container of the same image: have one ready by then.
      this.pool.prewarm(this.gradeSpec(image));
      return this.register(inst, image, container, warm, Date.now() - t0, req, spec);
    } catch (e) {
      if (e instanceof ServeError) throw e;
      throw new ServeError("sandbox_unavailable", `starting a container failed: ${(e as Error).message}`);
    } finally {
      this.pendingStarts--;
    }
  }

  private register(
    inst: Instance,
    image: string,
    container: Container,
    warm: boolean,
    startMs: number,
    req: StartRequest,
    spec: ContainerSpec,
  ): SessionInfo {
    const id = `${this.config.node}.${randomBytes(8).toString("hex")}`;
    const now = Date.now();
    const lifetimeS = req.lifetime_s ?? this.config.limits.lifetimeS;
    const idleS = req.idle_timeout_s ?? this.config.limits.idleS;
    const info: SessionInfo = {
      session_id: id,
      instance_id: inst.instance_id,
      node: this.config.node,
      workdir: WORKSPACE,
      problem_statement: inst.problem_statement,
      warm,
      start_ms: startMs,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + lifetimeS * 1000).toISOString(),
      idle_timeout_s: idleS,
      network: spec.network ?? false,
      limits: { ...(spec.limits?.memory ? { memory: spec.limits.memory } : {}), pids: spec.limits?.pids },
    };
    this.sessions.set(id, {
      id,
      inst,
      image,
      container,
      info,
      createdAt: now,
      expiresAt: now + lifetimeS * 1000,
      idleMs: idleS * 1000,
      lastActive: now,
      busy: 0,
      tail: Promise.resolve(),
      shells: new Map(),
    });
    log.info({ session: id, instance: inst.instance_id, warm, startMs }, "session started");
    return info;
  }

  /** The live session, or the reason it is not. */
  get(id: string): Session {
    const s = this.sessions.get(id);
    if (s) return s;
    const why = this.tombstones.get(id);
    if (why) throw new ServeError("session_closed", `session ${id} is closed: ${why}`);
    const node = nodeOf(id);
    if (node && node !== this.config.node)
      throw new ServeError(
        "session_lost",
        `session ${id} was held by serve process ${node}, which is not this one (${this.config.node}) and is not ` +
          "reachable: it stopped or died, and its sessions with it. Start a new session.",
      );
    throw new ServeError("unknown_session", `no session ${id} on this server`);
  }

  /** Run one operation on a session, after the ones before it; the session counts as active meanwhile. */
  run<T>(id: string, op: (s: Session) => Promise<T>): Promise<T> {
    const s = this.get(id);
    s.busy++;
    s.lastActive = Date.now();
    const next = s.tail.then(async () => {
      if (s.closed) throw new ServeError("session_closed", `session ${id} is closed: ${s.closed}`);
      try {
        const out = await op(s);
        if (s.closed)
          throw new ServeError("session_closed", `session ${id} was closed meanwhile: ${s.closed}`);
        return out;
      } catch (e) {
        if (s.closed && !(e instanceof ServeError))
          throw new ServeError("session_closed", `session ${id} was closed meanwhile: ${s.closed}`);
        throw e;
      } finally {
        s.busy--;
        s.lastActive = Date.now();
      }
    });
    s.tail = next.catch(() => undefined);
    return next;
  }

  /** Submissions are graded a few at a time (each runs the test suite in its own container). */
  withGrading<T>(fn: () => Promise<T>): Promise<T> {
    return this.grading.with(fn);
  }

  async close(id: string, why = "closed by the client"): Promise<void> {
    const s = this.get(id);
    s.closed = why;
    this.sessions.delete(id);
    this.tombstones.set(id, why);
    if (this.tombstones.size > TOMBSTONES) this.tombstones.delete(this.tombstones.keys().next().value!);
    log.info({ session: id, why }, "session closed");
    await s.container
      .remove()
      .catch((e) => log.warn({ session: id, err: String(e) }, "container removal failed"));
  }

  /** Close sessions idle past their limit (none while a request runs) or past their lifetime. */
  async reap(now = Date.now()): Promise<void> {
    const doomed: [string, string][] = [];
    for (const s of this.sessions.values()) {
      if (now >= s.expiresAt)
        doomed.push([
          s.id,
          `expired: its lifetime of ${Math.round((s.expiresAt - s.createdAt) / 1000)} s ran out`,
        ]);
      else if (s.busy === 0 && now - s.lastActive >= s.idleMs)
        doomed.push([
          s.id,
          `reaped after ${Math.round(s.idleMs / 1000)} s without a request (idle_timeout_s)`,
        ]);
    }
    await Promise.all(doomed.map(([id, why]) => this.close(id, why).catch(() => undefined)));
  }

  /** Close every session and empty the pool (graceful stop). */
  async shutdown(): Promise<void> {
    clearInterval(this.reaper);
    this.reaper = undefined;
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id, "the server stopped")));
    await this.pool.close();
  }
}
