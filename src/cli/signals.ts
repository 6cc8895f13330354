/**
 * SIGINT and SIGTERM for every verb, in one place. The first signal aborts `interruption` (verbs stop
 * taking new work), runs what the verb registered with `onInterrupt` (a worker hands its jobs back), and
 * gives the verb `graceMs` to return. Then, or as soon as the verb returns, `stopNow`: the stores are
 * closed first (nothing is recorded after the signal: a task cut short never becomes a rejection), every
 * child process is killed (git, the engine's clients), every container of this process is removed, and
 * the process exits 130 (SIGINT) or 143 (SIGTERM). A second signal skips the grace period. Nothing here
 * waits on Redis or the engine without a time limit.
 */

import { descendants, killAll } from "../sandbox/proc.ts";
import { leaveSignalsToCaller, removeAllContainers } from "../sandbox/session.ts";
import { log } from "../util/log.ts";
import { Exit } from "./exit-codes.ts";

const controller = new AbortController();
/** Aborted at the first SIGINT or SIGTERM. */
export const interruption: AbortSignal = controller.signal;

let received: NodeJS.Signals | undefined;
let graceMs = 0;
let stopping: Promise<never> | undefined;
const closers = new Set<() => void>();
const hooks: (() => Promise<unknown>)[] = [];

/** The signal that stopped this process, if any. */
export function interruptedBy(): NodeJS.Signals | undefined {
  return received;
}

export function exitCodeFor(sig: NodeJS.Signals): number {
  return sig === "SIGTERM" ? Exit.terminated : Exit.interrupted;
}

/** Close this (a store) before anything is killed at a signal; returns a function that forgets it. */
export function closeOnInterrupt(close: () => void): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

/** Run `fn` at the first signal; the verb then has up to `grace` ms to finish before everything is stopped. */
export function onInterrupt(fn: () => Promise<unknown>, grace: number): void {
  hooks.push(fn);
  graceMs = Math.max(graceMs, grace);
}

/** Give the verb up to `grace` ms after a signal to finish on its own (e.g. mine prints its funnel). */
export function graceOnInterrupt(grace: number): void {
  graceMs = Math.max(graceMs, grace);
}

const withTimeout = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);

async function killChildren(): Promise<void> {
  const first = descendants(process.pid);
  if (first.length === 0) return;
  for (const pid of first) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  killAll(descendants(process.pid));
}

/** Close stores, kill children, remove containers, exit with `code` (default: the signal's). */
export function stopNow(code?: number): Promise<never> {
  stopping ??= (async () => {
    for (const close of closers) {
      try {
        close();
      } catch {
        // already closed
      }
    }
    closers.clear();
    await killChildren();
    await withTimeout(removeAllContainers(), 6_000);
    await killChildren(); // engine clients started by the removal itself, if it timed out
    process.exit(code ?? (received ? exitCodeFor(received) : Exit.failed));
  })();
  return stopping;
}

function onSignal(sig: NodeJS.Signals): void {
  if (received) {
    void stopNow();
    return;
  }
  received = sig;
  process.stderr.write(`swe-universe: ${sig}: stopping (children killed, containers removed)\n`);
  log.debug({ sig, graceMs }, "interrupted");
  controller.abort(new Error(`stopped by ${sig}`));
  for (const h of hooks) void h().catch(() => undefined);
  if (graceMs <= 0) void stopNow();
  else setTimeout(() => void stopNow(), graceMs);
}

/** Take over SIGINT and SIGTERM for this process (the sandbox's own handlers step aside). */
export function installSignals(): void {
  leaveSignalsToCaller();
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
}
