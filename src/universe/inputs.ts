/**
 * The repositories of a universe run, from a file (one per line: a local path, a clone URL or owner/name)
 * and from a GitHub search. Each input is named once when it is a duplicate (the same repository as an
 * earlier line, however written), invalid, renamed, not found or private; the first of duplicates is kept.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { GitRepo, isCloneUrl, repoNameFromUrl } from "../mine/git.ts";
import type { GitHubClient } from "../mine/github-client.ts";
import type { InputNote } from "../records/universe.ts";

/** One repository as listed, resolved to a name and a place. */
export interface ListedRepo {
  name: string;
  from: string;
  input: string;
  location: string;
  cloneUrl?: string;
}

export interface Listing {
  repos: ListedRepo[];
  notes: InputNote[];
}

const OWNER_NAME = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

/** Where owner/name entries are cloned from (default GitHub; SWEU_CLONE_BASE for a mirror). */
export function cloneUrlOf(name: string): string {
  const base = (process.env.SWEU_CLONE_BASE ?? "https://github.com").replace(/\/+$/, "");
  return `${base}/${name}.git`;
}

/** Lines of a repository list: `#` starts a comment; blank lines are skipped. */
export function listLines(text: string, file: string): { from: string; input: string }[] {
  const out: { from: string; input: string }[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line) out.push({ from: `${basename(file)}:${i + 1}`, input: line });
  }
  return out;
}

/**
 * Resolve one line: a URL (named from its path), a path (named from its origin, else local/<dir>), or
 * owner/name (cloned from GitHub). A line that is none of these is an `invalid` note.
 */
async function resolveLine(
  l: { from: string; input: string },
  baseDir: string,
): Promise<ListedRepo | InputNote> {
  const { from, input } = l;
  if (isCloneUrl(input)) {
    const name = repoNameFromUrl(input);
    if (!name)
      return { from, input, kind: "invalid", detail: `cannot tell owner/name from the URL ${input}` };
    return { name, from, input, location: input, cloneUrl: input };
  }
  const path = resolve(baseDir, input.replace(/^~(?=\/)/, process.env.HOME ?? "~"));
  const looksLikePath = isAbsolute(input) || /^[.~]/.test(input) || existsSync(path);
  if (looksLikePath) {
    if (!existsSync(path)) return { from, input, kind: "not_found", detail: `no such folder: ${path}` };
    let git: GitRepo;
    try {
      git = await GitRepo.open(path);
    } catch (e) {
      return { from, input, kind: "invalid", detail: (e as Error).message };
    }
    const origin = await git.git(["config", "--get", "remote.origin.url"]).catch(() => "");
    const name = (await git.originName()) ?? git.localName();
    await git.close();
    const url = origin.trim();
    return { name, from, input, location: path, ...(isCloneUrl(url) ? { cloneUrl: url } : {}) };
  }
  if (OWNER_NAME.test(input))
    return { name: input, from, input, location: cloneUrlOf(input), cloneUrl: cloneUrlOf(input) };
  return { from, input, kind: "invalid", detail: "not a path, a clone URL or owner/name" };
}

/** Read a repository list file. */
export async function readRepoList(file: string): Promise<Listing> {
  const lines = listLines(readFileSync(file, "utf8"), file);
  const out: Listing = { repos: [], notes: [] };
  for (const l of lines) {
    const r = await resolveLine(l, dirname(resolve(file)));
    if ("kind" in r) out.notes.push(r);
    else out.repos.push(r);
  }
  return out;
}

/**
 * Ask the GitHub API about repositories listed by owner/name or GitHub URL: a renamed one is recorded under
 * its new name (GitHub redirects the old one), one the API does not show is not found or private (the API
 * answers 404 to both), and the clone URL the API names is used. Others are left as they are.
 */
export async function checkWithApi(
  api: GitHubClient,
  listing: Listing,
  isGitHub: (r: ListedRepo) => boolean,
) {
  const repos: ListedRepo[] = [];
  for (const r of listing.repos) {
    if (!isGitHub(r)) {
      repos.push(r);
      continue;
    }
    const [owner, repo] = r.name.split("/") as [string, string];
    try {
      const { data } = await api.request("GET /repos/{owner}/{repo}", { owner, repo });
      const d = data as { full_name: string; clone_url: string; private?: boolean };
      if (d.full_name.toLowerCase() !== r.name.toLowerCase())
        listing.notes.push({
          from: r.from,
          input: r.input,
          kind: "renamed",
          detail: `${r.name} is now ${d.full_name}: recorded under the new name`,
          repo: d.full_name,
        });
      const viaUrl = isCloneUrl(r.input);
      repos.push({
        ...r,
        name: d.full_name,
        location: viaUrl ? r.location : d.clone_url,
        cloneUrl: d.clone_url,
      });
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status !== 404 && status !== 403 && status !== 451) throw e;
      listing.notes.push({
        from: r.from,
        input: r.input,
        kind: status === 404 ? "not_found" : "private",
        detail:
          status === 404
            ? `GitHub shows no repository ${r.name} (it does not exist, or it is private and the token cannot see it)`
            : `GitHub refuses access to ${r.name} (${status})`,
        repo: r.name,
      });
    }
  }
  listing.repos = repos;
}

/** Where a listed local checkout really is (symlinks resolved), to tell one checkout from another. */
const realPlace = (r: ListedRepo) => (existsSync(r.location) ? realpathSync(r.location) : r.location);

/**
 * Two different checkouts without an origin share a local name (`…/a/proj` and `…/b/proj` are both
 * local/proj): the second is another repository, not a duplicate. It gets a name of its own, from its path,
 * the same on every reading of the list, so its task ids cannot collide with the first's.
 */
function distinctLocal(
  r: ListedRepo,
  place: string,
  firstPlace: string | undefined,
  listing: Listing,
): ListedRepo | undefined {
  if (!r.name.startsWith("local/") || firstPlace === undefined || firstPlace === place) return undefined;
  const name = `${r.name}-${createHash("sha256").update(place).digest("hex").slice(0, 8)}`;
  listing.notes.push({
    from: r.from,
    input: r.input,
    kind: "renamed",
    detail: `another checkout is already listed as ${r.name} (${firstPlace}): this one is ${name}`,
    repo: name,
  });
  return { ...r, name };
}

/** Keep the first of repositories listed more than once (names compare case-insensitively); name the rest. */
export function dedupe(listing: Listing, known: Map<string, string> = new Map()): void {
  const seen = new Map(known);
  const places = new Map<string, string>();
  const kept: ListedRepo[] = [];
  for (const listed of listing.repos) {
    const place = realPlace(listed);
    const r = distinctLocal(listed, place, places.get(listed.name.toLowerCase()), listing) ?? listed;
    const key = r.name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      listing.notes.push({
        from: r.from,
        input: r.input,
        kind: "duplicate",
        detail: `${r.name} is already listed (${first}): kept once`,
        repo: r.name,
      });
      continue;
    }
    seen.set(key, r.from);
    places.set(key, place);
    kept.push(r);
  }
  listing.repos = kept;
}
