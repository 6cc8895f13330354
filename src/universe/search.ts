/**
 * Repositories from a GitHub search (language, stars, pushed since, license, topic). The search API returns
 * at most 1,000 results per query, so a query that matches more is split into ranges of creation dates,
 * halved until each range matches at most 1,000 (a single day that still matches more is searched for its
 * first 1,000 and named). Rate limits are waited out by the client (src/mine/github-client.ts) and named.
 */
import type { GitHubClient } from "../mine/github-client.ts";
import type { InputNote } from "../records/universe.ts";
import type { ListedRepo } from "./inputs.ts";

export interface SearchQuery {
  language?: string;
  /** A stars qualifier: "100", ">=100", "10..500". */
  stars?: string;
  /** Pushed at or after this date (YYYY-MM-DD). */
  pushedSince?: string;
  license?: string;
  topic?: string;
}

/** The API's cap on results per query. */
export const SEARCH_CAP = 1000;
const FIRST_DAY = "2007-10-01"; // before GitHub's first repository

interface ApiRepo {
  full_name: string;
  clone_url: string;
  created_at: string;
  stargazers_count?: number;
  language?: string | null;
}

export function queryText(q: SearchQuery, created?: [string, string]): string {
  const parts: string[] = [];
  if (q.language) parts.push(`language:${q.language}`);
  if (q.stars)
    parts.push(`stars:${/^[<>=.\d]/.test(q.stars) && !/^\d+$/.test(q.stars) ? q.stars : `>=${q.stars}`}`);
  if (q.pushedSince) parts.push(`pushed:>=${q.pushedSince}`);
  if (q.license) parts.push(`license:${q.license}`);
  if (q.topic) parts.push(`topic:${q.topic}`);
  if (created) parts.push(`created:${created[0]}..${created[1]}`);
  parts.push("fork:false", "archived:false");
  return parts.join(" ");
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const DAY_MS = 86_400_000;

export interface SearchResult {
  repos: ListedRepo[];
  notes: InputNote[];
  /** Repositories the search matched in all (before any cap). */
  total: number;
  /** Queries made (count and pages). */
  requests: number;
}

/** Search, split by creation dates past the cap; at most `max` repositories, newest ranges first. */
export async function searchRepositories(
  api: GitHubClient,
  q: SearchQuery,
  o: { max?: number; today?: string } = {},
): Promise<SearchResult> {
  const out: SearchResult = { repos: [], notes: [], total: 0, requests: 0 };
  const max = o.max ?? Number.POSITIVE_INFINITY;
  const search = async (created: [string, string] | undefined, page: number, perPage: number) => {
    out.requests++;
    const { data } = await api.request("GET /search/repositories", {
      q: queryText(q, created),
      sort: "stars",
      order: "desc",
      per_page: perPage,
      page,
    });
    return data as unknown as { total_count: number; items: ApiRepo[] };
  };
  const first = await search(undefined, 1, 100);
  out.total = first.total_count;
  const seen = new Set<string>();
  const take = (items: ApiRepo[]) => {
    for (const r of items) {
      if (out.repos.length >= max || seen.has(r.full_name.toLowerCase())) continue;
      seen.add(r.full_name.toLowerCase());
      out.repos.push({
        name: r.full_name,
        from: "search",
        input: r.full_name,
        location: r.clone_url,
        cloneUrl: r.clone_url,
      });
    }
  };
  const all = async (created: [string, string] | undefined, count: number, page1?: ApiRepo[]) => {
    const pages = Math.ceil(Math.min(count, SEARCH_CAP) / 100);
    for (let p = 1; p <= pages && out.repos.length < max; p++)
      take(p === 1 && page1 ? page1 : (await search(created, p, 100)).items);
  };
  if (first.total_count <= SEARCH_CAP) {
    await all(undefined, first.total_count, first.items);
    return out;
  }
  // Past the cap: ranges of creation dates, newest first, halved until each fits.
  const today = o.today ?? day(Date.now());
  const stack: [string, string][] = [[FIRST_DAY, today]];
  let ranges = 0;
  while (stack.length && out.repos.length < max) {
    const range = stack.pop()!;
    const n = (await search(range, 1, 1)).total_count;
    if (n === 0) continue;
    const [a, b] = [Date.parse(range[0]), Date.parse(range[1])];
    if (n > SEARCH_CAP && b > a) {
      const mid = a + Math.floor((b - a) / DAY_MS / 2) * DAY_MS;
      stack.push([range[0], day(mid)], [day(mid + DAY_MS), range[1]]); // the newer half is searched first
      continue;
    }
    ranges++;
    if (n > SEARCH_CAP)
      out.notes.push({
        from: "search",
        input: queryText(q, range),
        kind: "search_capped",
        detail: `${n} repositories were created on ${range[0]} alone: only the first ${SEARCH_CAP} can be listed`,
      });
    await all(range, n);
  }
  out.notes.unshift({
    from: "search",
    input: queryText(q),
    kind: "search_split",
    detail:
      `${first.total_count} repositories match; the API returns at most ${SEARCH_CAP} per query: ` +
      `searched in ${ranges} ranges of creation dates`,
  });
  return out;
}
