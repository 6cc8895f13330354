/** Write-then-rename helpers: a reader sees the old file or the new one, never half of either. */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

function tmpName(path: string, tag: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.${tag}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path, "tmp");
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Build a directory in a sibling temp folder, then swap it in. `fill` gets the temp path and the old
 * folder's path (when one exists) so it can carry files over. A directory cannot be renamed over a
 * non-empty one, so the old folder is renamed aside first: between the two renames the path is briefly
 * absent, never half-written.
 */
export function replaceDirAtomic(
  path: string,
  fill: (tmp: string, previous: string | undefined) => void,
): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tmpName(path, "tmp");
  mkdirSync(tmp);
  try {
    fill(tmp, existsSync(path) ? path : undefined);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(path)) {
    const old = tmpName(path, "old");
    renameSync(path, old);
    renameSync(tmp, path);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, path);
  }
}
