/**
 * Checks of the outside world a verb makes before it starts work that would otherwise wait on it for ever:
 * a Redis that does not answer within a bounded time is "unavailable" (exit 4), said in one line.
 */
import { Redis } from "ioredis";
import { CliError, Exit } from "./exit-codes.ts";
import { interruption } from "./signals.ts";

/** How long to keep trying a Redis that does not answer (SWEU_REDIS_WAIT seconds, default 15). */
export function redisWaitMs(): number {
  const s = Number(process.env.SWEU_REDIS_WAIT ?? "15");
  return Number.isFinite(s) && s >= 0 ? s * 1000 : 15_000;
}

async function pingOnce(url: string, timeoutMs: number): Promise<void> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
  } finally {
    r.disconnect();
  }
}

/** Resolve once `url` answers PING; throw a CliError (exit 4) when it has not within `waitMs`. */
export async function assertRedisReachable(url: string, waitMs = redisWaitMs()): Promise<void> {
  const deadline = Date.now() + waitMs;
  let last = "";
  for (;;) {
    try {
      await pingOnce(url, Math.max(1000, Math.min(5000, deadline - Date.now())));
      return;
    } catch (e) {
      last = (e as Error).message.split("\n")[0] ?? String(e);
    }
    if (Date.now() >= deadline || interruption.aborted)
      throw new CliError(
        `Redis at ${url} does not answer (${last}); gave up after ${Math.round(waitMs / 1000)} s (SWEU_REDIS_WAIT)`,
        Exit.unavailable,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
