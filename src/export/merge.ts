/**
 * `merge`: run folders (of `run`, of universe runs, from other machines) into one: one store holding every
 * record, the trajectories and build logs, then one dataset and one funnel across all of them. Records
 * are upserts by id, so merging the same folder twice changes nothing. Where folders disagree about a
 * candidate, an instance beats a rejection, and the first folder given wins between equals; each
 * disagreement is named in the result.
 */
import { cpSync, existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Store } from "../store/store.ts";
import {
  addNote,
  countInfra,
  readInfra,
  readNotes,
  readRepo,
  readRepos,
  writeRepo,
} from "../store/universe.ts";

export interface MergeResult {
  folders: number;
  candidates: number;
  instances: number;
  /** Ids that two folders ended differently, and what was kept. */
  conflicts: { id: string; kept: string; dropped: string }[];
}

/** Merge one run's store into `into`; `from` names the folder in conflicts. */
export function mergeStore(into: Store, src: Store, from: string, r: MergeResult): void {
  into.transaction(() => {
    for (const c of src.listCandidates()) {
      if (!into.getCandidate(c.id)) r.candidates++;
      into.putCandidate(c);
    }
    for (const t of src.listTasks()) into.putTask(t);
    for (const e of src.listEnvironments())
      if (!into.getEnvironment(e.key) || e.image_name) into.putEnvironment(e);
    for (const rej of src.listRejections()) {
      const here = into.outcome(rej.id);
      if (here === "instance") {
        r.conflicts.push({ id: rej.id, kept: "instance", dropped: `rejection ${rej.reason} (${from})` });
        continue;
      }
      const prev = into.getRejection(rej.id);
      if (prev && prev.reason !== rej.reason && prev.stage !== "mine" && prev.stage !== "split") {
        r.conflicts.push({
          id: rej.id,
          kept: `rejection ${prev.reason}`,
          dropped: `rejection ${rej.reason} (${from})`,
        });
        continue;
      }
      into.putRejection(rej);
    }
    for (const inst of src.listInstances()) {
      const here = into.getInstance(inst.instance_id);
      if (here) {
        if (JSON.stringify(here) !== JSON.stringify(inst))
          r.conflicts.push({
            id: inst.instance_id,
            kept: "instance (first folder)",
            dropped: `instance (${from})`,
          });
        continue;
      }
      const rej = into.getRejection(inst.instance_id);
      if (rej && rej.stage !== "mine" && rej.stage !== "split")
        r.conflicts.push({
          id: inst.instance_id,
          kept: `instance (${from})`,
          dropped: `rejection ${rej.reason}`,
        });
      into.putInstance(inst);
    }
    for (const [k, v] of src.listMeta("push:")) if (!into.getMeta(k)) into.setMeta(k, v);
    for (const repo of readRepos(src))
      if (!readRepo(into, repo.name)) writeRepo(into, { ...repo, order: readRepos(into).length });
    for (const n of readNotes(src)) addNote(into, n);
    for (const i of readInfra(src))
      for (let k = 0; k < i.count; k++) countInfra(into, i.kind, i.where[0] ?? from, i.last);
  });
}

/** Trajectories and build logs of a run folder, into the merged one (files already there are kept). */
export function mergeFiles(fromDir: string, outDir: string): void {
  for (const sub of ["trajectories", "work"]) {
    const src = join(fromDir, sub);
    if (!existsSync(src) || resolve(src) === resolve(join(outDir, sub))) continue;
    for (const name of readdirSync(src))
      cpSync(join(src, name), join(outDir, sub, name), {
        recursive: true,
        force: false,
        errorOnExist: false,
      });
  }
}
