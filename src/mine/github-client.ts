import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Octokit } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import Bottleneck from "bottleneck";
import { log } from "../util/log.ts";

export interface GitHubClientOptions {
  token?: string;
  /** API root, e.g. https://ghe.example.com/api/v3 or a test server; default https://api.github.com. */
  baseUrl?: string;
  /** Folder for the ETag cache (one JSON file per URL). No cache when absent. */
  cacheDir?: string;
  /** Retries for 5xx and network errors, and for rate limits (default 3). */
  retries?: number;
  /** Milliseconds per "second" of back-off; tests shrink it (default 1000). */
  retryBaseMs?: number;
  /** Longest rate-limit wait accepted before giving up, in seconds (default 900). */
  maxRateLimitWait?: number;
  /** Told each time a rate limit makes the client wait (kind: "rate limit", "secondary rate limit", "429"). */
  onWait?: (kind: string, seconds: number) => void;
  /** Least time between two search requests (default the throttling plugin's 2 s; tests shorten it). */
  searchMinMs?: number;
}

/** Plain 429s (not secondary, not an exhausted quota) honour retry-after: handled before the other plugins. */
function retryAfter429(octokit: Octokit, options: { [option: string]: unknown }): void {
  const cfg = options.retryAfter429 as RetryAfter429 | undefined;
  if (!cfg) return;
  octokit.hook.wrap("request", async (request, opts) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(opts);
      } catch (e) {
        const err = e as {
          status?: number;
          message?: string;
          response?: { headers?: Record<string, string> };
        };
        const headers = err.response?.headers ?? {};
        if (
          err.status !== 429 ||
          SECONDARY.test(err.message ?? "") ||
          headers["x-ratelimit-remaining"] === "0"
        ) {
          throw e; // the throttling plugin's cases
        }
        const after = retryAfterSeconds(headers) ?? 60; // GitHub: "wait at least one minute"
        log.warn({ after, attempt }, "GitHub answered 429 Too Many Requests");
        if (attempt >= cfg.retries || after > cfg.maxWait) throw e;
        cfg.onWait?.("429", after);
        await new Promise((r) => setTimeout(r, after * cfg.baseMs));
      }
    }
  });
}

interface RetryAfter429 {
  retries: number;
  baseMs: number;
  maxWait: number;
  onWait?: (kind: string, seconds: number) => void;
}

const SECONDARY = /\bsecondary rate\b/i;

function retryAfterSeconds(headers: Record<string, string | undefined>): number | undefined {
  const v = headers["retry-after"];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(v); // an HTTP date is allowed too
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/**
 * A plain sentence for an error that is a rate limit (primary, secondary or 429), saying how long GitHub
 * asked to wait; undefined for other errors.
 */
export function rateLimitMessage(e: unknown): string | undefined {
  const err = e as { status?: number; message?: string; response?: { headers?: Record<string, string> } };
  if (err.status !== 403 && err.status !== 429) return undefined;
  const headers = err.response?.headers ?? {};
  const primary = headers["x-ratelimit-remaining"] === "0";
  const secondary = SECONDARY.test(err.message ?? "");
  if (!primary && !secondary && err.status !== 429) return undefined;
  let wait = retryAfterSeconds(headers);
  if (wait === undefined && primary && headers["x-ratelimit-reset"]) {
    wait = Math.max(0, Number(headers["x-ratelimit-reset"]) - Math.floor(Date.now() / 1000));
  }
  const kind = primary ? "rate limit" : secondary ? "secondary rate limit" : "429 Too Many Requests";
  const when = wait === undefined ? "" : ` GitHub asks to wait ${wait} s.`;
  return (
    `GitHub API ${kind} (${err.status}).${when} Everything mined so far is kept: run the same command ` +
    `again later${primary ? " (a GITHUB_TOKEN raises the limit)" : ""}.`
  );
}

const GitHub = Octokit.plugin(retryAfter429, paginateRest, throttling, retry);
export type GitHubClient = InstanceType<typeof GitHub>;

interface CacheEntry {
  etag: string;
  data: unknown;
  headers: Record<string, string>;
}

/**
 * An Octokit with pagination, throttling (waits for the rate-limit reset, then retries) and retry (5xx with
 * quadratic back-off), plus conditional requests: every GET answered with an ETag is cached on disk, the
 * ETag is sent back as If-None-Match, and a 304 answer reuses the cached body (304s do not count against
 * the rate limit, so a rerun over the same PRs is nearly free).
 */
export function makeGitHubClient(opts: GitHubClientOptions = {}): GitHubClient {
  const retries = opts.retries ?? 3;
  const base = opts.retryBaseMs ?? 1000;
  const maxWait = opts.maxRateLimitWait ?? 900;
  const octokit = new GitHub({
    auth: opts.token || undefined,
    baseUrl: (opts.baseUrl ?? "https://api.github.com").replace(/\/+$/, ""),
    userAgent: "swe-universe",
    log: {
      debug: () => {},
      info: () => {},
      warn: (m: string) => log.warn(m),
      error: (m: string) => log.error(m),
    },
    // 429 is left to retryAfter429 (which honours retry-after); the retry plugin would back off blindly.
    retry: { retries, retryAfterBaseValue: base, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
    retryAfter429: { retries, baseMs: base, maxWait, onWait: opts.onWait },
    throttle: {
      ...(opts.searchMinMs !== undefined
        ? { search: new Bottleneck.Group({ id: "sweu-search", maxConcurrent: 1, minTime: opts.searchMinMs }) }
        : {}),
      retryAfterBaseValue: base,
      fallbackSecondaryRateRetryAfter: 60,
      onRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
        log.warn({ after, count }, "GitHub rate limit reached");
        const wait = count < retries && after <= maxWait;
        if (wait) opts.onWait?.("rate limit", after);
        return wait;
      },
      onSecondaryRateLimit: (after: number, _o: unknown, _k: unknown, count: number) => {
        log.warn({ after, count }, "GitHub secondary rate limit");
        const wait = count < retries && after <= maxWait;
        if (wait) opts.onWait?.("secondary rate limit", after);
        return wait;
      },
    },
  });
  if (opts.cacheDir) addEtagCache(octokit, opts.cacheDir);
  return octokit;
}

function addEtagCache(octokit: GitHubClient, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const file = (url: string) =>
    join(dir, `${createHash("sha256").update(url).digest("hex").slice(0, 32)}.json`);
  const read = (url: string): CacheEntry | undefined => {
    try {
      return JSON.parse(readFileSync(file(url), "utf8")) as CacheEntry;
    } catch {
      return undefined;
    }
  };
  octokit.hook.wrap("request", async (request, options) => {
    if (options.method !== "GET") return request(options);
    const url = octokit.request.endpoint(options).url;
    const cached = read(url);
    if (cached) options.headers = { ...options.headers, "if-none-match": cached.etag };
    try {
      const res = await request(options);
      const etag = res.headers.etag;
      if (etag) {
        const entry: CacheEntry = {
          etag,
          data: res.data,
          headers: res.headers.link ? { link: res.headers.link } : {},
        };
        const tmp = `${file(url)}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(entry));
        renameSync(tmp, file(url));
      }
      return res;
    } catch (e) {
      if (cached && (e as { status?: number }).status === 304) {
        return {
          status: 200,
          url,
          headers: { ...cached.headers, etag: cached.etag },
          data: cached.data,
        } as Awaited<ReturnType<typeof request>>;
      }
      throw e;
    }
  });
}
