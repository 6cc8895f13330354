/**
 * One JSON request over node:http(s), for the client and for forwarding between serve processes. Not
 * fetch: undici's fetch gives up on a response that takes longer than 300 s to start, and a command or a
 * grading run may take longer than that.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpResponse {
  status: number;
  body: unknown;
  text: string;
}

/** A connection failure (refused, reset, timed out): the server is not there or went away mid-request. */
export class HttpUnreachable extends Error {
  override readonly cause: Error;
  constructor(url: string, cause: Error) {
    super(`${url}: ${cause.message}`);
    this.name = "HttpUnreachable";
    this.cause = cause;
  }
}

export function httpJson(
  url: string,
  o: { method: string; headers?: Record<string, string>; body?: unknown; timeoutMs?: number },
): Promise<HttpResponse> {
  const u = new URL(url);
  const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      u,
      {
        method: o.method,
        headers: {
          accept: "application/json",
          ...(payload
            ? { "content-type": "application/json", "content-length": String(payload.length) }
            : {}),
          ...o.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new HttpUnreachable(url, e)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body, text });
        });
      },
    );
    if (o.timeoutMs)
      req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on("error", (e) => reject(new HttpUnreachable(url, e)));
    req.end(payload);
  });
}
