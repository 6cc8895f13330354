/**
 * A local HTTP server answering like GitHub's REST API for what a universe run asks: the repository search
 * (its 1,000-result cap: pages past it answer 422; `created:A..B` ranges filter; the first search answers a
 * primary rate limit once when asked) and repository lookups (a renamed repository answers 301 to its new
 * home, a missing or private one 404).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeRepo {
  full_name: string;
  created_at: string;
  clone_url: string;
}

export interface FakeSearch {
  url: string;
  requests: string[];
  /** Answer the next search with a primary rate limit (reset in 1 s). */
  rateLimitOnce: boolean;
  close(): Promise<void>;
}

export async function startFakeSearch(
  universe: FakeRepo[],
  lookups: Record<string, FakeRepo | { movedTo: string } | 404>,
): Promise<FakeSearch> {
  const fake: FakeSearch = { url: "", requests: [], rateLimitOnce: false, close: async () => {} };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    fake.requests.push(`${u.pathname}${u.search}`);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "x-ratelimit-remaining": "29",
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === "/search/repositories") {
      if (fake.rateLimitOnce) {
        fake.rateLimitOnce = false;
        const reset = String(Math.floor(Date.now() / 1000) + 1);
        return json(
          403,
          { message: "API rate limit exceeded" },
          { "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset },
        );
      }
      const q = u.searchParams.get("q") ?? "";
      const m = /created:(\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d)/.exec(q);
      const hits = universe.filter(
        (r) => !m || (r.created_at.slice(0, 10) >= m[1]! && r.created_at.slice(0, 10) <= m[2]!),
      );
      const per = Number(u.searchParams.get("per_page") ?? 30);
      const page = Number(u.searchParams.get("page") ?? 1);
      if (page * per > 1000)
        return json(422, { message: "Only the first 1000 search results are available" });
      return json(200, {
        total_count: hits.length,
        incomplete_results: false,
        items: hits.slice((page - 1) * per, page * per),
      });
    }
    const repo = /^\/repos\/([^/]+\/[^/]+)$/.exec(u.pathname)?.[1];
    const moved = /^\/repositories\/(.+)$/.exec(u.pathname)?.[1];
    const hit = repo ? lookups[repo] : moved ? lookups[decodeURIComponent(moved)] : undefined;
    if (hit === undefined || hit === 404) return json(404, { message: "Not Found" });
    if ("movedTo" in hit) {
      res.writeHead(301, { location: `${fake.url}/repositories/${encodeURIComponent(hit.movedTo)}` });
      return res.end();
    }
    return json(200, hit);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
