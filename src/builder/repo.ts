import { mkdirSync, rmSync } from "node:fs";
import { run, runOk } from "../util/exec.ts";
import { isManifest } from "./manifests.ts";
import type { RepoView } from "./view.ts";

export type { RepoView } from "./view.ts";

export async function repoView(gitDir: string, commit: string): Promise<RepoView> {
  const listing = await runOk("git", ["-C", gitDir, "ls-tree", "-r", "-z", "--name-only", commit], {
    maxBuffer: 256 * 1024 * 1024,
  });
  const files = listing.split("\0").filter(Boolean);
  const set = new Set(files);
  const cache = new Map<string, string | undefined>();
  // Recipes read a handful of small manifests; read them lazily with one `git show` each.
  const readSync = (path: string): string | undefined => cache.get(path);
  const wanted = files.filter((f) => isManifest(f));
  if (wanted.length) {
    const batch = await run("git", ["-C", gitDir, "cat-file", "--batch"], {
      input: wanted.map((f) => `${commit}:${f}`).join("\n") + "\n",
      maxBuffer: 256 * 1024 * 1024,
    });
    parseBatch(batch.stdout, wanted, cache);
  }
  return {
    files,
    has: (p) => set.has(p),
    read: readSync,
    first: (...paths) => paths.find((p) => set.has(p)),
  };
}

function parseBatch(out: string, names: string[], into: Map<string, string | undefined>): void {
  // Output: "<sha> <type> <size>\n<content>\n" per object, or "<name> missing\n".
  const buf = Buffer.from(out, "utf8");
  let pos = 0;
  for (const name of names) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const header = buf.subarray(pos, nl).toString();
    pos = nl + 1;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!m) continue;
    const size = Number(m[2]);
    if (m[1] === "blob" && size < 32_000_000) into.set(name, buf.subarray(pos, pos + size).toString("utf8"));
    pos += size + 1;
  }
}

/**
 * Make a sanitised copy of the repository at `commit` in `dest`: history up to the base commit only,
 * one branch, no remotes, tags, reflogs, stashes or unreachable objects — nothing that leads to the fix.
 */
export async function sanitisedCheckout(gitDir: string, commit: string, dest: string): Promise<void> {
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const git = (...args: string[]) => runOk("git", ["-C", dest, ...args], { maxBuffer: 64 * 1024 * 1024 });
  await runOk("git", ["init", "-q", "-b", "main", dest]);
  // Fetch only what is reachable from the base commit: later commits never enter the object store.
  await git("fetch", "-q", "--no-tags", gitDir, commit);
  await git("reset", "-q", "--hard", commit);
  await git("config", "user.email", "sweu@localhost");
  await git("config", "user.name", "swe-universe");
  for (const ref of ["FETCH_HEAD", "ORIG_HEAD"]) rmSync(`${dest}/.git/${ref}`, { force: true });
  await git("reflog", "expire", "--expire=now", "--all");
  await git("gc", "-q", "--prune=now");
  rmSync(`${dest}/.git/logs`, { recursive: true, force: true });
  rmSync(`${dest}/.git/hooks`, { recursive: true, force: true });
}
