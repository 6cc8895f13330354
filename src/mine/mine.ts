import type { Model } from "../model/model.ts";
import type { Candidate } from "../records/candidate.ts";
import type { Rejection } from "../records/rejection.ts";
import type { Task } from "../records/task.ts";
import type { Store } from "../store/store.ts";
import { saysSourceBroken } from "../util/causes.ts";
import { MissingCommitError, SourceError } from "./errors.ts";
import { assessQuality } from "./quality.ts";
import type { ListOptions, Source } from "./source.ts";
import { type SplitOptions, type SplitResult, splitCandidate } from "./split.ts";

export interface MineOptions extends SplitOptions, Omit<ListOptions, "skip"> {
  /** Candidates diffed and split ahead of the one being written (default 16). */
  concurrency?: number;
  /** The PR quality filter's LLM checks (the rules run without one); see quality.ts. */
  model?: Model;
  /** Run the PR quality filter on each task (default true). */
  quality?: boolean;
  /** Called after each candidate's outcome is written. Aborting the signal stops before the next write. */
  onOutcome?: (c: Candidate, outcome: { task?: Task; rejection?: Rejection }) => void;
}

export interface MineSummary {
  /** Candidates whose outcome was written in this run. */
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
  // Primary-key lookups (kind, id): cheap even with millions of records.
  const done = (id: string) => {
    const has = store.getRejection(id) !== undefined || store.getTask(id) !== undefined;
    if (has) summary.skipped++;
    return has;
  };
  const write = (c: Candidate, { task, rejection }: SplitResult) => {
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
    summary.listed++;
    if (task && !rej) summary.tasks++;
    if (rej) summary.rejections++;
    opts.onOutcome?.(c, { task, rejection: rej });
  };
  // A small window of candidates in flight keeps the long-lived git processes busy (their requests are
  // pipelined); outcomes are still written one candidate at a time, in listing order.
  const window: { c: Candidate; outcome: Promise<SplitResult> }[] = [];
  const width = Math.max(1, opts.concurrency ?? 16);
  const list = source.listCandidates({
    limit: opts.limit,
    since: opts.since,
    signal: opts.signal,
    skip: done,
  });
  // Write, in order, the outcomes already in flight; stop at the first that failed (an error from the
  // source) or when aborted.
  const flush = async (): Promise<void> => {
    while (window.length > 0 && !opts.signal?.aborted) {
      const next = window.shift()!;
      write(next.c, await next.outcome);
    }
  };
  try {
    for await (const c of list) {
      if (opts.signal?.aborted) break;
      const outcome = outcomeOf(source, c, opts).then((r) => filtered(r, opts));
      outcome.catch(() => {}); // awaited below, in order; this only avoids an early unhandled rejection
      window.push({ c, outcome });
      while (window.length >= width || (window.length > 0 && opts.signal?.aborted)) {
        const next = window.shift()!;
        const result = await next.outcome;
        if (opts.signal?.aborted) break;
        write(next.c, result);
      }
    }
  } catch (e) {
    // The listing (or an outcome) failed part-way, e.g. page 2 of the API answered 502 for good: the
    // candidates already complete are written before the error goes up, so a rerun skips them.
    await flush().catch(() => {});
    throw e;
  }
  await flush();
  return summary;
}

async function outcomeOf(source: Source, c: Candidate, opts: SplitOptions): Promise<SplitResult> {
  if (!c.merged) return splitCandidate(c, Buffer.alloc(0), opts);
  let diff: Buffer;
  try {
    diff = await source.diff(c);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const detail = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
    // git cannot read the repository's own objects: the clone is broken, not the candidate.
    if (saysSourceBroken(detail) && !(e instanceof MissingCommitError))
      throw new SourceError("input", `the repository ${c.repo} is broken: ${detail.split("\n")[0]}`);
    const reason = e instanceof MissingCommitError ? ("no_base_commit" as const) : ("source_error" as const);
    return { rejection: { reason, detail } };
  }
  return splitCandidate(c, diff, opts, source.readFile?.bind(source));
}

/** The PR quality filter on a task the split kept: its verdicts on the task, and a named rejection. */
async function filtered(r: SplitResult, opts: MineOptions): Promise<SplitResult> {
  if (!r.task || r.rejection || opts.quality === false) return r;
  const q = await assessQuality(r.task, { model: opts.model, signal: opts.signal });
  if (q.rejection) return { rejection: q.rejection };
  return { task: { ...r.task, quality: q.quality } };
}
