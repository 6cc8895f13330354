/**
 * Names from input files (instance ids, model names, run ids) as file names: one path segment, never
 * `.` or `..`, no separators or control characters, bounded length. A name that had to change, or is
 * too long, keeps a readable prefix and gains a hash of the whole original, so two names never share a
 * file name. Names that are already safe are kept as they are (SWE-bench's folder names stay the same).
 */
import { createHash } from "node:crypto";
import { resolve, sep } from "node:path";

/** Longest name returned, in bytes (well under the 255 of common filesystems, room for suffixes). */
export const MAX_NAME_BYTES = 120;

const hash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 12);

/** `name` as one safe path segment. `slashes` replaces `/` (SWE-bench writes `org/model` as `org__model`). */
export function safeFileName(name: string, slashes = "__"): string {
  let out = name.replace(/[/\\]/g, slashes).replace(/[\u0000-\u001f\u007f]/g, "_");
  if (/^\.+$/.test(out) || out === "") out = out.replace(/\./g, "_") || "_";
  out = out.replace(/^\./, "_");
  const changed = out !== name.replace(/[/\\]/g, slashes);
  if (!changed && Buffer.byteLength(out) <= MAX_NAME_BYTES) return out;
  let prefix = out;
  while (Buffer.byteLength(prefix) > MAX_NAME_BYTES - 14) prefix = prefix.slice(0, -1);
  return `${prefix}-${hash(name)}`;
}

/** `parent/child`, refusing any result outside `parent` (a last guard behind safeFileName). */
export function inside(parent: string, ...parts: string[]): string {
  const root = resolve(parent);
  const p = resolve(root, ...parts);
  if (p !== root && !p.startsWith(root + sep)) throw new Error(`refusing to write outside ${root}: ${p}`);
  return p;
}
