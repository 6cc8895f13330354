/** A route of the service as data: method, path, schemas and a handler (server.ts registers the table). */
import type { FastifyRequest } from "fastify";
import type { z } from "zod";
import type { SessionManager } from "./sessions.ts";

export interface Ctx {
  m: SessionManager;
  req: FastifyRequest;
  /** The `:id` of a session route, "" elsewhere. */
  id: string;
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  summary: string;
  body?: z.ZodType;
  query?: z.ZodType;
  response: z.ZodType;
  status?: number;
  handler(c: Ctx): Promise<unknown>;
}

/** A handler's answer with a status of its own (SWE-ReX's 511 for exceptions it re-raises). */
export class Answer {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    this.status = status;
    this.body = body;
  }
}
