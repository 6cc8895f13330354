/**
 * Path helpers shared by the recipes that select tests by where the PR's test files sit (Go packages,
 * Cargo packages): which directory owns a file, and which project root (go.mod, Cargo.toml) owns a directory.
 */

/** Directory of a repository path ("" for the root). */
export function ownerDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** The deepest root ("" = repository root) that contains dir, or undefined. */
export function rootOf(dir: string, roots: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const r of roots) {
    const inside = r === "" || dir === r || dir.startsWith(`${r}/`);
    if (inside && (best === undefined || r.length > best.length)) best = r;
  }
  return best;
}

/** Group directories by their root, each formatted relative to it; directories under no root are dropped. */
export function byRoot(
  dirs: readonly string[],
  roots: readonly string[],
  format: (relative: string) => string,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const d of [...dirs].sort()) {
    const root = rootOf(d, roots);
    if (root === undefined) continue;
    const rel = root === "" ? d : d.slice(root.length + 1);
    const list = out.get(root) ?? [];
    const item = format(rel);
    if (!list.includes(item)) list.push(item);
    out.set(root, list);
  }
  return out;
}
