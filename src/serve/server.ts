/**
 * The rollout service over HTTP (Fastify): a table of routes, each with its JSON schemas (validated by
 * Fastify, published at /openapi.json), a bearer token on every route but the health check and the
 * description, errors as `{error, message, statusCode}` with a 4xx for anything the request got wrong.
 * A session's requests go to the process that holds its container (cluster.ts), wherever they arrive.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import swagger from "@fastify/swagger";
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { z } from "zod";
import {
  DiffResult,
  ErrorBody,
  ExecRequest,
  ExecResult,
  FileContent,
  Health,
  jsonSchema,
  NodeInfo,
  ReadFileQuery,
  SessionInfo,
  StartRequest,
  SubmitRequest,
  SubmitResult,
  TaskDetail,
  TaskList,
  TaskQuery,
  WriteFileRequest,
  WriteFileResult,
} from "./api.ts";
import type { Cluster } from "./cluster.ts";
import { type ErrorCode, errorBody, ServeError } from "./errors.ts";
import { HttpUnreachable, httpJson } from "./http.ts";
import * as ops from "./ops.ts";
import { Answer, type Ctx, type Route } from "./route.ts";
import { nodeOf, type SessionManager } from "./sessions.ts";
import { swerexRoutes } from "./swerex.ts";
import { taskDetail, taskList } from "./tasks.ts";

export interface ServerOptions {
  manager: SessionManager;
  cluster: Cluster;
  /** The bearer token every request but /v1/health and /openapi.json must carry. */
  token: string;
  /** Largest request body (file uploads, patches). */
  bodyLimit: number;
  /** This process as the cluster lists it (address, load). */
  self: () => NodeInfo;
}

const body = <T>(c: Ctx) => c.req.body as T;

const ROUTES: Route[] = [
  {
    method: "GET",
    url: "/v1/tasks",
    summary: "List the served tasks",
    query: TaskQuery,
    response: TaskList,
    handler: async (c) => taskList(c.m, c.req.query as z.infer<typeof TaskQuery>),
  },
  {
    method: "GET",
    url: "/v1/tasks/:instance_id",
    summary: "One task as an agent may see it",
    response: TaskDetail,
    handler: async (c) => taskDetail(c.m.instance((c.req.params as { instance_id: string }).instance_id)),
  },
  {
    method: "GET",
    url: "/v1/sessions",
    summary: "This process's live sessions",
    response: SessionInfo.array(),
    handler: async (c) => c.m.list(),
  },
  {
    method: "GET",
    url: "/v1/sessions/:id",
    summary: "A session",
    response: SessionInfo,
    handler: async (c) => c.m.get(c.id).info,
  },
  {
    method: "POST",
    url: "/v1/sessions/:id/exec",
    summary: "Run a command (timeout, capped output)",
    body: ExecRequest,
    response: ExecResult,
    handler: (c) => ops.exec(c.m, c.id, body(c)),
  },
  {
    method: "GET",
    url: "/v1/sessions/:id/files",
    summary: "Read a file under /testbed",
    query: ReadFileQuery,
    response: FileContent,
    handler: (c) => {
      const q = c.req.query as z.infer<typeof ReadFileQuery>;
      return ops.readFile(c.m, c.id, q.path, q.encoding);
    },
  },
  {
    method: "PUT",
    url: "/v1/sessions/:id/files",
    summary: "Write a file under /testbed",
    body: WriteFileRequest,
    response: WriteFileResult,
    handler: (c) => ops.writeFile(c.m, c.id, body(c)),
  },
  {
    method: "GET",
    url: "/v1/sessions/:id/diff",
    summary: "The session's changes to /testbed as a patch",
    response: DiffResult,
    handler: (c) => ops.diff(c.m, c.id),
  },
  {
    method: "POST",
    url: "/v1/sessions/:id/submit",
    summary:
      "Grade a patch (or the session's own diff) as evaluate does: reward 0 or 1 and the per-test report",
    body: SubmitRequest,
    response: SubmitResult,
    handler: (c) => ops.submit(c.m, c.id, (c.req.body ?? {}) as z.infer<typeof SubmitRequest>),
  },
  {
    method: "DELETE",
    url: "/v1/sessions/:id",
    summary: "Close a session (its container is removed)",
    response: SessionInfo.pick({ session_id: true }),
    handler: async (c) => {
      await c.m.close(c.id);
      return { session_id: c.id };
    },
  },
];

/** Fastify's own errors, as ours. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, (e: FastifyError) => string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ["invalid_json", () => "the request body is not valid JSON"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["invalid_json", () => "the request says it is JSON but its body is empty"],
  FST_ERR_CTP_BODY_TOO_LARGE: [
    "payload_too_large",
    (e) => `the request body is over the server's limit (--max-upload-bytes): ${e.message}`,
  ],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["unsupported_media_type", () => "send application/json"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["bad_request", (e) => e.message],
};

function toServeError(e: FastifyError): ServeError {
  if (e instanceof ServeError) return e;
  const known = FASTIFY_ERRORS[e.code];
  if (known) return new ServeError(known[0], known[1](e));
  if (e.validation) return new ServeError("bad_request", `invalid request: ${e.message}`);
  if (e instanceof SyntaxError)
    return new ServeError("invalid_json", `the request body is not valid JSON: ${e.message}`);
  return new ServeError("internal", `internal error: ${e.message}`);
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** Bearer token (or SWE-ReX's X-API-Key header), compared in constant time. */
function authorize(token: string) {
  const want = digest(token);
  return async (req: FastifyRequest) => {
    if ((req.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const auth = req.headers.authorization;
    const given = auth?.startsWith("Bearer ")
      ? auth.slice(7)
      : (req.headers["x-api-key"] as string | undefined);
    if (given === undefined)
      throw new ServeError("unauthorized", "this server needs a token: send `Authorization: Bearer <token>`");
    if (!timingSafeEqual(digest(given), want))
      throw new ServeError("unauthorized", "the token is not this server's");
  };
}

/** Send a session's request on to the process that holds it; a process that does not answer has lost it. */
async function forward(
  o: ServerOptions,
  req: FastifyRequest,
  reply: FastifyReply,
  owner: string,
): Promise<void> {
  const id = (req.params as { id: string }).id;
  const node = await o.cluster.node(owner);
  if (!node) return void o.manager.get(id); // throws session_lost with the reason
  try {
    const r = await httpJson(`${node.url}${req.url}`, {
      method: req.method,
      headers: { authorization: `Bearer ${o.token}`, "x-sweu-forwarded": o.manager.config.node },
      ...(req.body === undefined ? {} : { body: req.body }),
    });
    await reply.code(r.status).send(r.body);
  } catch (e) {
    if (!(e instanceof HttpUnreachable)) throw e;
    throw new ServeError(
      "session_lost",
      `session ${id} is held by serve process ${owner} at ${node.url}, which does not answer (${e.cause.message}): ` +
        "it died, and its sessions with it. Start a new session.",
    );
  }
}

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: o.bodyLimit,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    logger: false,
  });
  // Response schemas describe the API (OpenAPI); replies are plain JSON.stringify.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "swe-universe rollout service",
        version: "1",
        description:
          "Sessions in verified software-engineering environments: commands, files, submit → reward (docs/serve.md).",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  app.addHook("onRequest", authorize(o.token));
  app.setErrorHandler(async (e: FastifyError, _req, reply) => {
    const se = toServeError(e);
    return reply.code(se.statusCode).send(errorBody(se));
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply
      .code(404)
      .send(
        errorBody(
          new ServeError(
            "not_found",
            `no route ${req.method} ${req.url.split("?")[0]} (the API is described at /openapi.json)`,
          ),
        ),
      ),
  );
  emptyBodies(app);
  registerPublic(app, o);
  registerStart(app, o);
  const errors = { "4xx": jsonSchema(ErrorBody), "5xx": jsonSchema(ErrorBody) };
  const sessionRoutes = [...ROUTES, ...swerexRoutes()];
  for (const r of sessionRoutes) {
    app.route({
      method: r.method,
      url: r.url,
      schema: {
        summary: r.summary,
        ...(r.body ? { body: jsonSchema(r.body) } : {}),
        ...(r.query ? { querystring: jsonSchema(r.query) } : {}),
        response: { [r.status ?? 200]: jsonSchema(r.response), ...errors },
      },
      // A request without a body is an empty object (SWE-ReX's close, a submit of the container's diff).
      preValidation: async (req) => {
        if (r.body && req.body === undefined) req.body = {};
      },
      handler: async (req, reply) => {
        const id = (req.params as { id?: string }).id ?? "";
        const owner = id ? nodeOf(id) : undefined;
        if (owner && owner !== o.manager.config.node && !req.headers["x-sweu-forwarded"])
          return forward(o, req, reply, owner);
        const out = await r.handler({ m: o.manager, req, id });
        if (out instanceof Answer) return reply.code(out.status).send(out.body);
        return reply.code(r.status ?? 200).send(out);
      },
    });
  }
  // Sessions first (their containers removed, requests in flight answered), then the listener waits for none.
  app.addHook("preClose", async () => {
    await o.manager.shutdown();
  });
  app.addHook("onClose", async () => {
    await o.cluster.close();
  });
  app.addHook("onResponse", async (req) => {
    if (req.method !== "GET") o.cluster.touch();
  });
  return app;
}

function registerPublic(app: FastifyInstance, o: ServerOptions): void {
  app.get(
    "/v1/health",
    {
      config: { public: true },
      schema: {
        summary: "Liveness and load (no token needed)",
        security: [],
        response: { 200: jsonSchema(Health) },
      },
    },
    async () => ({
      status: "ok" as const,
      ...o.self(),
      warm: o.manager.pool.size,
      cluster: o.cluster.kind === "redis",
    }),
  );
  app.get("/openapi.json", { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  app.get(
    "/v1/nodes",
    {
      schema: {
        summary: "The serve processes of this service",
        response: { 200: jsonSchema(NodeInfo.array()) },
      },
    },
    async () => o.cluster.nodes(),
  );
}

/**
 * A new session goes to the least loaded process (this one on a tie); a process that is full or does not
 * answer is passed over for the next.
 */
function registerStart(app: FastifyInstance, o: ServerOptions): void {
  app.post(
    "/v1/sessions",
    {
      schema: {
        summary: "Start a session from an instance: a fresh container, network off by default",
        body: jsonSchema(StartRequest),
        response: {
          201: jsonSchema(SessionInfo),
          "4xx": jsonSchema(ErrorBody),
          "5xx": jsonSchema(ErrorBody),
        },
      },
    },
    async (req, reply) => {
      const start = req.body as z.infer<typeof StartRequest>;
      o.manager.instance(start.instance_id); // unknown instances fail here, wherever they would have gone
      const here = () => o.manager.start(start).then((info) => reply.code(201).send(info));
      if (req.headers["x-sweu-forwarded"] || o.cluster.kind === "solo") return here();
      let last: ServeError | undefined;
      let failed: { status: number; body: unknown } | undefined;
      for (const node of await o.cluster.nodes()) {
        if (node.node === o.manager.config.node) {
          try {
            return await here();
          } catch (e) {
            if (!(e instanceof ServeError) || e.code !== "capacity") throw e;
            last = e;
            continue;
          }
        }
        const r = await httpJson(`${node.url}/v1/sessions`, {
          method: "POST",
          headers: { authorization: `Bearer ${o.token}`, "x-sweu-forwarded": o.manager.config.node },
          body: start,
        }).catch(() => undefined);
        if (r && r.status !== 429 && r.status < 500) return reply.code(r.status).send(r.body);
        if (r && r.status >= 500) failed = r;
      }
      if (failed) return reply.code(failed.status).send(failed.body);
      throw (
        last ?? new ServeError("capacity", "every serve process of this service is full or does not answer")
      );
    },
  );
}

/**
 * An empty body under any media type is no body (aiohttp, SWE-ReX's client, posts `close` with
 * `application/octet-stream` and nothing in it); a body that is not JSON is still refused with 415.
 */
function emptyBodies(app: FastifyInstance): void {
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    const e = Object.assign(new Error("send application/json"), {
      statusCode: 415,
      code: "FST_ERR_CTP_INVALID_MEDIA_TYPE",
    });
    done(e, undefined);
  });
}
