/**
 * A universe run's own state in its store's meta area (src/records/universe.ts): its budgets, its
 * repositories and where each stands, notes on its inputs, and infrastructure failures met. Kept beside
 * the records so a resumed run (kill -9, the same command again) finishes the same run.
 */
import { InfraCount, InputNote, RepoState, UniverseConfig } from "../records/universe.ts";
import type { Store } from "./store.ts";

const CONFIG = "universe:config";
const REPO = "universe:repo:";
const NOTE = "universe:note:";
const INFRA = "universe:infra:";

export function readConfig(store: Store): UniverseConfig | undefined {
  const raw = store.getMeta(CONFIG);
  return raw ? UniverseConfig.parse(JSON.parse(raw)) : undefined;
}

export function writeConfig(store: Store, c: UniverseConfig): void {
  store.setMeta(CONFIG, JSON.stringify(UniverseConfig.parse(c)));
}

export function readRepos(store: Store): RepoState[] {
  return store
    .listMeta(REPO)
    .map(([, v]) => RepoState.parse(JSON.parse(v)))
    .sort((a, b) => a.order - b.order);
}

export function readRepo(store: Store, name: string): RepoState | undefined {
  const raw = store.getMeta(`${REPO}${name.toLowerCase()}`);
  return raw ? RepoState.parse(JSON.parse(raw)) : undefined;
}

export function writeRepo(store: Store, r: RepoState): void {
  store.setMeta(`${REPO}${r.name.toLowerCase()}`, JSON.stringify(RepoState.parse(r)));
}

/** Notes are keyed by where they come from and what they say: reading the same list again adds none. */
export function addNote(store: Store, n: InputNote): boolean {
  const key = `${NOTE}${n.kind}:${n.from}:${n.input}`;
  if (store.getMeta(key)) return false;
  store.setMeta(key, JSON.stringify(InputNote.parse(n)));
  return true;
}

export function readNotes(store: Store): InputNote[] {
  return store.listMeta(NOTE).map(([, v]) => InputNote.parse(JSON.parse(v)));
}

/** Count one infrastructure failure of `kind`, where it happened and what it said. */
export function countInfra(store: Store, kind: string, where: string, detail: string): InfraCount {
  const raw = store.getMeta(`${INFRA}${kind}`);
  const c = raw ? InfraCount.parse(JSON.parse(raw)) : { kind, count: 0, last: "", where: [] };
  const next = {
    kind,
    count: c.count + 1,
    last: detail.slice(0, 500),
    where: c.where.includes(where) ? c.where : [...c.where, where].slice(-20),
  };
  store.setMeta(`${INFRA}${kind}`, JSON.stringify(next));
  return next;
}

export function readInfra(store: Store): InfraCount[] {
  return store.listMeta(INFRA).map(([, v]) => InfraCount.parse(JSON.parse(v)));
}
