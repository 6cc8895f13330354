import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

const FIXTURES = join(import.meta.dirname, "fixtures", "github");

export type Failure =
  | "rate-limit"
  | "rate-limit-long"
  | "server-error"
  /** 403 "You have exceeded a secondary rate limit", retry-after: 1. */
  | "secondary-403"
  /** The same asking for an hour. */
  | "secondary-long"
  /** 429 Too Many Requests with retry-after: 5 (long enough to tell from a blind back-off). */
  | "429"
  /** 429 with retry-after: 3600. */
  | "429-long";

export interface FakeGitHub {
  url: string;
  requests: { route: string; status: number; headers: IncomingHttpHeaders; at: number }[];
  /** Scripted failures per route, answered before the real reply (e.g. { "pulls-1": ["rate-limit"] }). */
  failures: Record<string, Failure[]>;
  close(): Promise<void>;
}

/**
 * A local HTTP server that answers like the GitHub REST API from recorded-style fixtures: Link pagination,
 * ETags and 304s, a primary rate limit (403, x-ratelimit-remaining: 0, reset), secondary limits (403 with
 * retry-after), 429s and 5xx errors on demand. Routes: pulls-<page>, files-<n>, issue-<n>, timeline-<n>,
 * comments-<n>; a route without a fixture answers 404 (timelines and comment lists: an empty list).
 * `{{name}}` placeholders in fixtures are replaced from `subs` (commit ids of the test's repository) and
 * `{{api}}` with the server's own URL.
 */
export async function startFakeGitHub(subs: Record<string, string>): Promise<FakeGitHub> {
  const fake: FakeGitHub = { url: "", requests: [], failures: {}, close: async () => {} };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", fake.url);
    const page = Number(u.searchParams.get("page") ?? "1");
    const link = (next: number | undefined, last: number) => {
      const at = (p: number) => {
        const x = new URL(u);
        x.searchParams.set("page", String(p));
        return x.toString();
      };
      const parts = next
        ? [`<${at(next)}>; rel="next"`, `<${at(last)}>; rel="last"`]
        : [`<${at(1)}>; rel="first"`];
      return parts.join(", ");
    };
    let route = "";
    let linkHeader: string | undefined;
    const files = /^\/repos\/acme\/sample\/pulls\/(\d+)\/files$/.exec(u.pathname);
    const issue = /^\/repos\/acme\/sample\/issues\/(\d+)$/.exec(u.pathname);
    const sub = /^\/repos\/acme\/sample\/issues\/(\d+)\/(timeline|comments)$/.exec(u.pathname);
    if (u.pathname === "/repos/acme/sample/pulls") {
      route = `pulls-${page}`;
      linkHeader = link(page < 2 ? page + 1 : undefined, 2);
    } else if (files) {
      route = files[1] === "11" ? `files-11-${page}` : `files-${files[1]}`;
      if (files[1] === "11") linkHeader = link(page < 2 ? page + 1 : undefined, 2);
    } else if (issue) {
      route = `issue-${issue[1]}`;
    } else if (sub) {
      route = `${sub[2]}-${sub[1]}`;
    }
    const base = {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      "x-ratelimit-limit": "5000",
      "x-github-request-id": `FAKE:${fake.requests.length}`,
    };
    const answer = (status: number, headers: Record<string, string>, body?: string) => {
      fake.requests.push({ route: route || u.pathname, status, headers: req.headers, at: Date.now() });
      res.writeHead(status, { ...base, ...headers });
      res.end(body);
    };
    const failure = fake.failures[route]?.shift();
    const now = Math.floor(Date.now() / 1000);
    if (failure === "rate-limit" || failure === "rate-limit-long") {
      const reset = now + (failure === "rate-limit" ? 1 : 3600);
      return answer(
        403,
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset), "x-ratelimit-used": "5000" },
        JSON.stringify({
          message: "API rate limit exceeded for 127.0.0.1.",
          documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
        }),
      );
    }
    if (failure === "secondary-403" || failure === "secondary-long") {
      return answer(
        403,
        { "retry-after": failure === "secondary-403" ? "1" : "3600", "x-ratelimit-remaining": "4000" },
        JSON.stringify({
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID FAKE.",
          documentation_url:
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }),
      );
    }
    if (failure === "429" || failure === "429-long") {
      return answer(
        429,
        { "retry-after": failure === "429" ? "5" : "3600", "x-ratelimit-remaining": "4000" },
        JSON.stringify({ message: "Too Many Requests" }),
      );
    }
    if (failure === "server-error") return answer(502, {}, JSON.stringify({ message: "Server Error" }));
    let body: string;
    try {
      body = readFileSync(join(FIXTURES, `${route}.json`), "utf8");
    } catch {
      // Every issue and PR of the fake has a timeline and a comment list, empty unless a fixture says more.
      if (!sub) {
        return answer(
          404,
          {},
          JSON.stringify({ message: "Not Found", documentation_url: "https://docs.github.com/rest" }),
        );
      }
      body = "[]";
    }
    body = body.replace(/\{\{([^}]+)\}\}/g, (_, k: string) =>
      k === "api" ? fake.url : (subs[k] ?? `?${k}`),
    );
    const etag = `W/"${createHash("sha1").update(body).digest("hex")}"`;
    const headers: Record<string, string> = {
      etag,
      "x-ratelimit-remaining": "4999",
      "x-ratelimit-reset": String(now + 3600),
    };
    if (linkHeader) headers.link = linkHeader;
    if (req.headers["if-none-match"] === etag) return answer(304, headers);
    return answer(200, headers, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
