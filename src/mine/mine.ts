import type { Candidate } from "../records/candidate.ts";
import type { Rejection } from "../records/rejection.ts";
import type { Task } from "../records/task.ts";
import type { Store } from "../store/store.ts";
import { MissingCommitError, SourceError } from "./errors.ts";
import type { ListOptions, Source } from "./source.ts";
import { type SplitOptions, splitCandidate } from "./split.ts";

export interface MineOptions extends SplitOptions, Omit<ListOptions, "skip"> {
  /** Called after each candidate's outcome is written. */
  onOutcome?: (c: Candidate, outcome: { task?: Task; rejection?: Rejection }) => void;
}

export interface MineSummary {
  /** Candidates listed by the source in this run (after skipping those already done). */
  listed: number;
  /** Candidates whose outcome was already in the store (resume). */
  skipped: number;
  tasks: number;
  rejections: number;
}

/**
 * The mine stage: list candidates, diff, split, and write each Candidate with its Task and/or Rejection in
 * one transaction, the moment they exist. A rerun skips candidates that already have an outcome; an
 * interruption between candidates loses nothing and leaves nothing half-written.
 */
export async function mine(source: Source, store: Store, opts: MineOptions = {}): Promise<MineSummary> {
  const summary: MineSummary = { listed: 0, skipped: 0, tasks: 0, rejections: 0 };
  const done = (id: string) => {
    const o = store.outcome(id);
    if (o === "task" || o === "rejected" || o === "instance") {
      summary.skipped++;
      return true;
    }
    return false;
  };
  for await (const c of source.listCandidates({
    limit: opts.limit,
    since: opts.since,
    signal: opts.signal,
    skip: done,
  })) {
    if (opts.signal?.aborted) break;
    summary.listed++;
    const { task, rejection } = await outcomeOf(source, c, opts);
    const rej: Rejection | undefined = rejection && {
      id: c.id,
      repo: c.repo,
      number: c.number,
      stage: c.merged ? "split" : "mine",
      reason: rejection.reason,
      detail: rejection.detail,
      at: new Date().toISOString(),
    };
    store.transaction(() => {
      store.putCandidate(c);
      if (task) store.putTask(task);
      if (rej) store.putRejection(rej);
    });
    if (task && !rej) summary.tasks++;
    if (rej) summary.rejections++;
    opts.onOutcome?.(c, { task, rejection: rej });
  }
  return summary;
}

async function outcomeOf(source: Source, c: Candidate, opts: SplitOptions) {
  if (!c.merged) return splitCandidate(c, Buffer.alloc(0), opts);
  let diff: Buffer;
  try {
    diff = await source.diff(c);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const detail = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
    const reason = e instanceof MissingCommitError ? ("no_base_commit" as const) : ("source_error" as const);
    return { rejection: { reason, detail } };
  }
  return splitCandidate(c, diff, opts, source.readFile?.bind(source));
}
