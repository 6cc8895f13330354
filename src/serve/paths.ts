/**
 * File paths a client names: relative ones are taken under the workspace (/testbed), absolute ones must
 * lie inside it, and a path that climbs out with `..` is refused. This is the API's contract, not the
 * security boundary: the session's shell can read anything in its own container; the container is the
 * boundary.
 */
import { posix } from "node:path";
import { ServeError } from "./errors.ts";

export const WORKSPACE = "/testbed";

export function workspacePath(raw: string, root = WORKSPACE): string {
  if (raw.includes("\0")) throw new ServeError("path_outside_workspace", "a path may not hold a NUL byte");
  const full = posix.normalize(posix.isAbsolute(raw) ? raw : posix.join(root, raw)).replace(/\/+$/, "");
  if (full !== root && !full.startsWith(`${root}/`)) {
    throw new ServeError(
      "path_outside_workspace",
      `path "${raw}" resolves to ${full || "/"}, outside ${root}: name files relative to ${root} or inside it`,
    );
  }
  return full;
}
