/**
 * The containers of this process, process-wide: every container carries this process's session label, is
 * registered while it lives, and is removed on SIGINT/SIGTERM (unless the caller owns the signals, as the
 * CLI does) and, as a last resort, at exit.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { spawnRaw } from "./proc.ts";

/** Per-process session label value: every container this process starts carries it. */
export const SESSION = `${process.pid}-${randomBytes(4).toString("hex")}`;
export const SESSION_LABEL = "sweu.session";

/** How to remove a container: the engine's executable, its global flags and its `rm` flags. */
export interface Remover {
  exe: string;
  global: string[];
  rm: string[];
}

const live = new Map<string, Remover>();
/** Engines this process started containers with (for the session-label sweep). */
const engines = new Map<string, Remover>();
let handlersInstalled = false;
let callerOwnsSignals = false;

/** The caller (the CLI, src/cli/signals.ts) handles SIGINT/SIGTERM and calls removeAllContainers itself. */
export function leaveSignalsToCaller(): void {
  callerOwnsSignals = true;
}

/** Remove every container this process started: the tracked ones, then any carrying its session label. */
export async function removeAllContainers(): Promise<void> {
  await cleanupAll();
  await Promise.all(
    [...engines.values()].map(async (e) => {
      const ps = await spawnRaw(
        e.exe,
        [...e.global, "ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`],
        {
          timeoutMs: 10_000,
        },
      ).catch(() => undefined);
      const ids = ps?.stdout.toString().split(/\s+/).filter(Boolean) ?? [];
      if (ids.length)
        await spawnRaw(e.exe, [...e.global, ...e.rm, ...ids], { timeoutMs: 30_000 }).catch(() => undefined);
    }),
  );
}

export function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (code: number) => () => {
    void cleanupAll().finally(() => process.exit(code));
  };
  if (!callerOwnsSignals) {
    process.once("SIGINT", onSignal(130));
    process.once("SIGTERM", onSignal(143));
  }
  // Last resort when the process exits with containers still registered (no async work possible here).
  process.once("exit", () => {
    for (const [id, e] of live)
      spawnSync(e.exe, [...e.global, ...e.rm, id], { stdio: "ignore", timeout: 15_000 });
    live.clear();
  });
}

async function cleanupAll(): Promise<void> {
  await Promise.all(
    [...live].map(async ([id, e]) => {
      await spawnRaw(e.exe, [...e.global, ...e.rm, id], { timeoutMs: 60_000 }).catch(() => undefined);
      live.delete(id);
    }),
  );
}

/** Register a container of this process (before the call that creates it: a half-created one is removed too). */
export function trackContainer(name: string, remover: Remover): void {
  live.set(name, remover);
  engines.set(remover.exe, remover);
}

/** Forget a removed container. */
export function untrackContainer(name: string): void {
  live.delete(name);
}
