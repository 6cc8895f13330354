/**
 * Checks of the outside world a verb makes before it starts work that would otherwise wait on it for ever:
 * a Redis that does not answer within a bounded time is "unavailable" (exit 4), said in one line.
 */
import { Redis } from "ioredis";
import type { Sandbox } from "../sandbox/sandbox.ts";
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
  let why: Error | undefined;
  r.on("error", (e: Error) => {
    why ??= e;
  });
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    throw why ?? e;
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

/**
 * The container engine answers (`info`), else exit 4 before any work: an engine that is down would
 * otherwise turn every task into a sandbox_error rejection, or every prediction into an error.
 */
export async function assertEngineAnswers(sandbox: Sandbox): Promise<void> {
  const r = await sandbox.ping();
  if (!r.ok)
    throw new CliError(`container engine ${sandbox.engine} unavailable: ${r.error}`, Exit.unavailable);
}
