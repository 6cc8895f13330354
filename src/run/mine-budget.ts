/**
 * A repository's mining budget is part of the run, kept in its store: the same command run again after a
 * kill finishes the same run instead of mining `--limit` more PRs. `--limit N` mines until the run holds N
 * merged candidates of the repository and then never again (a rerun builds what is pending); a larger
 * limit is a new budget and mines the difference. Without a limit every run mines what is new, as before.
 */
import { type MineOptions, type MineSummary, mine } from "../mine/mine.ts";
import type { Source } from "../mine/source.ts";
import type { Store } from "../store/store.ts";

export interface MineBudget {
  limit?: number;
  since?: string;
  /** Whether mining reached the budget (or the end of the history) once: the set of candidates is fixed. */
  complete: boolean;
}

const key = (repo: string) => `mine:${repo}`;

export function mineBudget(store: Store, repo: string): MineBudget | undefined {
  const raw = store.getMeta(key(repo));
  return raw ? (JSON.parse(raw) as MineBudget) : undefined;
}

/** Merged candidates of a repository the run holds (the ones a limit counts). */
export function minedCount(store: Store, repo: string): number {
  return store.listCandidates(repo).filter((c) => c.merged).length;
}

export async function mineWithinBudget(
  source: Source,
  store: Store,
  o: MineOptions,
): Promise<MineSummary & { complete: boolean }> {
  const repo = source.repo;
  const prev = mineBudget(store, repo);
  const same = prev?.limit === o.limit && prev?.since === o.since;
  if (o.limit !== undefined && prev?.complete && same) {
    return { listed: 0, skipped: store.funnel(repo).candidates, tasks: 0, rejections: 0, complete: true };
  }
  const already = o.limit === undefined ? 0 : minedCount(store, repo);
  const remaining = o.limit === undefined ? undefined : Math.max(0, o.limit - already);
  store.setMeta(key(repo), JSON.stringify({ limit: o.limit, since: o.since, complete: false }));
  const s =
    remaining === 0
      ? { listed: 0, skipped: already, tasks: 0, rejections: 0 }
      : await mine(source, store, { ...o, limit: remaining });
  const complete = !o.signal?.aborted;
  if (complete) store.setMeta(key(repo), JSON.stringify({ limit: o.limit, since: o.since, complete }));
  return { ...s, complete };
}
