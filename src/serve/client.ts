/**
 * A thin TypeScript client of the rollout service. Every method is one request; every non-2xx answer
 * and every connection failure raises a ServeError, so a session lost with its process can never be read
 * as a reward. `SessionLostError` marks the ones where the session is gone for good: start another.
 *
 *   const c = new ServeClient({ url, token });
 *   const s = await c.start("owner__repo-123");
 *   await s.exec("pytest -x");
 *   const { reward, report } = await s.submit();   // the container's own diff, graded as `evaluate` grades
 *   await s.close();
 */
import type {
  DiffResult,
  ExecRequest,
  ExecResult,
  FileContent,
  NodeInfo,
  SessionInfo,
  StartRequest,
  SubmitResult,
  TaskDetail,
  TaskSummary,
  WriteFileRequest,
} from "./api.ts";
import { HttpUnreachable, httpJson } from "./http.ts";

export class ServeError extends Error {
  /** HTTP status, 0 when the server did not answer. */
  readonly status: number;
  /** The service's error code (errors.ts), or "unreachable". */
  readonly code: string;
  readonly body: unknown;
  constructor(status: number, code: string, message: string, body?: unknown) {
    super(message);
    this.name = "ServeError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** The session is gone (closed, reaped, or its serve process died): its requests will never succeed again. */
export class SessionLostError extends ServeError {
  constructor(e: ServeError) {
    super(e.status, e.code, e.message, e.body);
    this.name = "SessionLostError";
  }
}

const LOST = new Set(["session_lost", "session_closed", "unknown_session", "unreachable"]);

export interface ClientOptions {
  url: string;
  token: string;
  /** Per-request limit; default none (a command or a grading run may take long). */
  timeoutMs?: number;
}

export class ServeClient {
  readonly url: string;
  private readonly token: string;
  private readonly timeoutMs: number | undefined;

  constructor(o: ClientOptions) {
    this.url = o.url.replace(/\/+$/, "");
    this.token = o.token;
    this.timeoutMs = o.timeoutMs;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let r: Awaited<ReturnType<typeof httpJson>>;
    try {
      r = await httpJson(`${this.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}` },
        ...(body === undefined ? {} : { body }),
        ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
      });
    } catch (e) {
      if (e instanceof HttpUnreachable)
        throw new ServeError(
          0,
          "unreachable",
          `the rollout service did not answer ${method} ${path}: ${e.cause.message}`,
        );
      throw e;
    }
    if (r.status >= 200 && r.status < 300) return r.body as T;
    const b = (r.body ?? {}) as { error?: string; message?: string };
    throw new ServeError(
      r.status,
      b.error ?? `http_${r.status}`,
      b.message ?? (r.text || `HTTP ${r.status}`),
      r.body,
    );
  }

  health(): Promise<NodeInfo & { status: string; warm: number; cluster: boolean }> {
    return this.request("GET", "/v1/health");
  }

  nodes(): Promise<NodeInfo[]> {
    return this.request("GET", "/v1/nodes");
  }

  tasks(q: { offset?: number; limit?: number; repo?: string; language?: string } = {}): Promise<{
    total: number;
    tasks: TaskSummary[];
  }> {
    const qs = new URLSearchParams(
      Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    return this.request("GET", `/v1/tasks${qs ? `?${qs}` : ""}`);
  }

  task(instanceId: string): Promise<TaskDetail> {
    return this.request("GET", `/v1/tasks/${encodeURIComponent(instanceId)}`);
  }

  async start(instanceId: string, o: Omit<StartRequest, "instance_id"> = {}): Promise<Session> {
    const info = await this.request<SessionInfo>("POST", "/v1/sessions", { instance_id: instanceId, ...o });
    return new Session(this, info);
  }

  /** A handle on a session started elsewhere (its id is all it takes). */
  session(info: SessionInfo): Session {
    return new Session(this, info);
  }
}

export class Session {
  readonly id: string;
  readonly info: SessionInfo;
  private readonly c: ServeClient;

  constructor(c: ServeClient, info: SessionInfo) {
    this.c = c;
    this.info = info;
    this.id = info.session_id;
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.c.request<T>(method, `/v1/sessions/${encodeURIComponent(this.id)}${path}`, body);
    } catch (e) {
      if (e instanceof ServeError && LOST.has(e.code)) throw new SessionLostError(e);
      throw e;
    }
  }

  exec(command: string, o: Omit<ExecRequest, "command"> = {}): Promise<ExecResult> {
    return this.call("POST", "/exec", { command, ...o });
  }

  readFile(path: string, encoding?: "utf8" | "base64"): Promise<FileContent> {
    const qs = new URLSearchParams({ path, ...(encoding ? { encoding } : {}) });
    return this.call("GET", `/files?${qs}`);
  }

  writeFile(
    path: string,
    content: string | Buffer,
    o: Omit<WriteFileRequest, "path" | "content"> = {},
  ): Promise<{ path: string; size: number }> {
    const body: WriteFileRequest = Buffer.isBuffer(content)
      ? { path, content: content.toString("base64"), encoding: "base64", ...o }
      : { path, content, ...o };
    return this.call("PUT", "/files", body);
  }

  diff(): Promise<DiffResult> {
    return this.call("GET", "/diff");
  }

  /** Reward 1 or 0 with the per-test report; `patch` absent = the container's own diff. Throws otherwise. */
  submit(patch?: string): Promise<SubmitResult> {
    return this.call("POST", "/submit", patch === undefined ? {} : { patch });
  }

  status(): Promise<SessionInfo> {
    return this.call("GET", "");
  }

  async close(): Promise<void> {
    await this.call("DELETE", "");
  }
}
