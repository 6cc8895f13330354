/** Where a run keeps its store. One place, so export, report and the pipeline agree. */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { CliError, Exit } from "../cli/exit-codes.ts";
import { SqliteStore } from "../store/sqlite.ts";

export const STORE_FILE = "store.sqlite";

/**
 * --run-dir, else SWEU_RUN_DIR, else the only run under ./runs/ (where `run` and `mine` put them).
 * With several runs there and no flag, say which to choose rather than guess.
 */
export function resolveRunDir(flag: string | undefined): string {
  const explicit = flag ?? process.env.SWEU_RUN_DIR;
  if (explicit) return resolve(explicit);
  const runs = existsSync("runs")
    ? readdirSync("runs").filter((d) => existsSync(join("runs", d, STORE_FILE)))
    : [];
  if (runs.length === 1) return resolve("runs", runs[0]!);
  throw new CliError(
    runs.length
      ? `several runs under ./runs (${runs.join(", ")}): pass --run-dir`
      : "no run found under ./runs: pass --run-dir (or set SWEU_RUN_DIR)",
    Exit.usage,
  );
}

export function storePath(runDir: string): string {
  return join(runDir, STORE_FILE);
}

/** Open an existing run's store; undefined when the run has no store yet (never creates one). */
export function openRunStore(runDir: string): SqliteStore | undefined {
  const path = storePath(runDir);
  return existsSync(path) ? new SqliteStore(path) : undefined;
}
