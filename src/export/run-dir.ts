/** Where a run keeps its store. One place, so export, report and the pipeline agree. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SqliteStore } from "../store/sqlite.ts";

export const STORE_FILE = "store.sqlite";

export function storePath(runDir: string): string {
  return join(runDir, STORE_FILE);
}

/** Open an existing run's store; undefined when the run has no store yet (never creates one). */
export function openRunStore(runDir: string): SqliteStore | undefined {
  const path = storePath(runDir);
  return existsSync(path) ? new SqliteStore(path) : undefined;
}
