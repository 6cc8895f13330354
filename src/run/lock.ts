/**
 * One writer per run folder. `<run>/.lock` holds the pid (and its start time, so a reused pid is not taken
 * for the holder) of the process that writes the folder. A second process waits, saying which pid holds
 * it, or fails at once when asked not to wait; the lock of a process that died (kill -9) is taken over.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { pidAlive } from "./reap.ts";

export const LOCK_FILE = ".lock";

export interface LockHolder {
  pid: number;
  host: string;
  started?: string;
  verb: string;
  since: string;
}

export class RunDirBusy extends Error {
  readonly holder: LockHolder;
  constructor(dir: string, holder: LockHolder) {
    super(`the run folder ${dir} is in use by pid ${holder.pid} (${holder.verb}, since ${holder.since})`);
    this.name = "RunDirBusy";
    this.holder = holder;
  }
}

/** The start time of a process (field 22 of /proc/<pid>/stat), to tell a reused pid from the holder. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, "utf8")) as LockHolder;
    return typeof h.pid === "number" ? h : undefined;
  } catch {
    return undefined;
  }
}

/** A lock file that has held no readable holder for more than 5 s. */
function unreadableForLong(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > 5_000;
  } catch {
    return false;
  }
}

/** Alive and the same process that wrote the lock (on this host; another host's lock is trusted). */
function holds(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!pidAlive(h.pid)) return false;
  return !h.started || startTime(h.pid) === undefined || startTime(h.pid) === h.started;
}

function tryTake(path: string, verb: string): boolean {
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    started: startTime(process.pid),
    verb,
    since: new Date().toISOString(),
  };
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const h = readHolder(path);
    // A lock being written right now reads as empty: give its writer a moment (the caller polls). One that
    // stays unreadable was left half-written (a full disk, a crash between open and write): stale.
    if (!h && !unreadableForLong(path)) return false;
    if (h && holds(h)) return false;
    // Stale (its process died): move it aside atomically, so two takers cannot both remove a fresh one.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      return false;
    }
    const moved = readHolder(aside);
    if (moved && moved.pid !== h?.pid) {
      // Another process took the stale lock over in between: give its fresh lock back and wait for it.
      if (!existsSync(path)) renameSync(aside, path);
      else rmSync(aside, { force: true });
      return false;
    }
    rmSync(aside, { force: true });
    return tryTake(path, verb);
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } catch (e) {
    // A full disk: leave no empty lock behind for the next process to wait on.
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return true;
}

export interface RunLock {
  path: string;
  release(): void;
}

/**
 * Take the lock of `dir` (created when missing). `wait`: poll until it is free (calling `onWait` once with
 * the holder), else throw RunDirBusy at once. Resolves undefined when `signal` aborts while waiting.
 */
export async function lockRunDir(
  dir: string,
  o: {
    verb: string;
    wait?: boolean;
    onWait?: (h: LockHolder) => void;
    signal?: AbortSignal;
    pollMs?: number;
  },
): Promise<RunLock | undefined> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  let told = false;
  while (!tryTake(path, o.verb)) {
    const h = readHolder(path);
    if (h && o.wait === false) throw new RunDirBusy(dir, h);
    if (h && !told) {
      o.onWait?.(h);
      told = true;
    }
    if (o.signal?.aborted) return undefined;
    await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
  }
  const release = () => {
    const h = readHolder(path);
    if (h?.pid === process.pid) rmSync(path, { force: true });
    process.off("exit", release);
  };
  process.on("exit", release);
  return { path, release };
}

/** Whether `dir` has a lock held by a live process (for tests and `report`). */
export function lockHolder(dir: string): LockHolder | undefined {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return undefined;
  const h = readHolder(path);
  return h && holds(h) ? h : undefined;
}
