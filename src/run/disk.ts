/**
 * Free disk space. A run writes to two places that can fill up: its run folder (store, build contexts,
 * trajectories, exports) and the container engine's storage (images, layers, containers). Before each task
 * the guard checks both against a minimum; below it, the run pauses — says where and how much is free —
 * and goes on by itself once space is back. A task that hits a full disk anyway ("no space left on
 * device", SQLITE_FULL) is not rejected: nothing is recorded for it, and it is tried again after the pause.
 */
import { existsSync, statfsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { saysDiskFull } from "../util/causes.ts";
import { formatBytes } from "../util/size.ts";

/**
 * Whether a message of the infrastructure says the disk is full. Only for messages known to come from the
 * machine (an engine's error, an errno text, our own tools): never for a task's test output.
 */
export const isDiskFull = saysDiskFull;

/** The nearest existing folder at or above `path`. */
function existing(path: string): string | undefined {
  let p = path;
  while (!existsSync(p)) {
    const up = dirname(p);
    if (up === p) return undefined;
    p = up;
  }
  return p;
}

/** Bytes free to unprivileged writers on the filesystem holding `path` (its nearest existing parent). */
export function freeBytes(path: string): number | undefined {
  const p = existing(path);
  if (!p) return undefined;
  try {
    const s = statfsSync(p, { bigint: false });
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export interface DiskGuardOptions {
  /** Folders to watch (the run folder, the engine's storage); unknown or missing ones are skipped. */
  paths: readonly (string | undefined)[];
  /** Pause below this many free bytes on any watched filesystem. */
  minFreeBytes: number;
  /** How often to look again while paused (default SWEU_DISK_CHECK_MS, else 30 s). */
  checkMs?: number;
  onPause?: (why: string) => void;
  onResume?: (pausedMs: number) => void;
}

export class DiskGuard {
  private readonly o: DiskGuardOptions;
  private readonly paths: string[];
  /** How often a paused run or worker looks at free space again. */
  readonly checkMs: number;
  /** One pause at a time: concurrent tasks wait on the same one. */
  private waiting: Promise<void> | undefined;
  private toldFull = 0;

  constructor(o: DiskGuardOptions) {
    this.o = o;
    this.paths = [...new Set(o.paths.filter((p): p is string => !!p))];
    this.checkMs = o.checkMs ?? (Number(process.env.SWEU_DISK_CHECK_MS) || 30_000);
  }

  /** What is short, e.g. "412.0 MiB free on /var/lib/containers (minimum 1.0 GiB)"; undefined when all is well. */
  shortage(): string | undefined {
    const short: string[] = [];
    const seen = new Set<number>();
    for (const p of this.paths) {
      const dev = deviceOf(p);
      if (dev !== undefined && seen.has(dev)) continue; // one filesystem, said once
      if (dev !== undefined) seen.add(dev);
      const free = freeBytes(p);
      if (free !== undefined && free < this.o.minFreeBytes) short.push(`${formatBytes(free)} free on ${p}`);
    }
    return short.length ? `${short.join(", ")} (minimum ${formatBytes(this.o.minFreeBytes)})` : undefined;
  }

  /** Resolves at once when there is room, else when there is again (or when `signal` aborts). */
  ready(signal?: AbortSignal): Promise<void> {
    if (!this.shortage()) return Promise.resolve();
    this.waiting ??= this.pause(signal).finally(() => {
      this.waiting = undefined;
    });
    return this.waiting;
  }

  /** After a write failed for want of space: wait at least one check interval, then until there is room. */
  async afterFull(detail: string, signal?: AbortSignal): Promise<void> {
    if (!this.shortage()) {
      // Said once a minute at most: a disk that stays full fails every retry the same way.
      if (Date.now() - this.toldFull > 60_000)
        this.o.onPause?.(`the disk filled up during a task (${firstLine(detail)}); trying it again shortly`);
      this.toldFull = Date.now();
      await sleep(this.checkMs, signal);
    }
    await this.ready(signal);
  }

  private async pause(signal?: AbortSignal): Promise<void> {
    const t0 = Date.now();
    let why = this.shortage();
    this.o.onPause?.(`disk nearly full: ${why}; new tasks wait until space is freed`);
    while (why && !signal?.aborted) {
      await sleep(this.checkMs, signal);
      why = this.shortage();
    }
    if (!signal?.aborted) this.o.onResume?.(Date.now() - t0);
  }
}

function deviceOf(path: string): number | undefined {
  const p = existing(path);
  try {
    return p === undefined ? undefined : statSync(p).dev;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  const l = text.split("\n").find((x) => saysDiskFull(x)) ?? text.split("\n")[0] ?? "";
  return l.trim().slice(0, 300);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
