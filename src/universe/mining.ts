/**
 * Mining one repository of a universe run: open it (a path, or a clone into the run's cache), mine within
 * its budget (src/run/mine-budget.ts), and say what it came to. A repository that cannot be used is named
 * once, by what is wrong with it, and never stops the others.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SourceError } from "../mine/errors.ts";
import { GitSource } from "../mine/git-source.ts";
import type { InputNote, RepoState, Task } from "../records/index.ts";
import { mineBudget, mineWithinBudget } from "../run/mine-budget.ts";
import type { Store } from "../store/store.ts";
import { causeOf, saysSourceBroken } from "../util/causes.ts";

export type Mined =
  | { ok: true; gitDir: string; pending: string[]; tasks: number; rejections: number; skipped: number }
  | { ok: false; status: "input_error" | "unavailable"; kind: InputNote["kind"]; detail: string };

/** What a failure to clone or read a repository says about it. */
export function classifySourceError(msg: string, inputFault: boolean): Extract<Mined, { ok: false }> {
  const detail = msg.split("\n").slice(0, 3).join(" ").slice(0, 500);
  if (saysSourceBroken(msg)) return { ok: false, status: "input_error", kind: "broken", detail };
  if (
    /authentication failed|could not read username|terminal prompts disabled|permission denied \(publickey\)|403/i.test(
      msg,
    )
  )
    return { ok: false, status: "input_error", kind: "private", detail };
  if (
    /repository not found|not found|does not appear to be a git repository|does not exist|no such/i.test(msg)
  )
    return { ok: false, status: "input_error", kind: "not_found", detail };
  if (inputFault) return { ok: false, status: "input_error", kind: "invalid", detail };
  return { ok: false, status: "unavailable", kind: "unreachable", detail };
}

/** A repository's buildable tasks without an outcome, newest PR first (their ids: tasks stay in the store). */
export function pendingTasks(store: Store, repo: string): string[] {
  return store
    .listTasks(repo)
    .filter((t: Task) => !t.needs_generated_tests && store.outcome(t.instance_id) === "task")
    .sort((a, b) => b.number - a.number)
    .map((t) => t.instance_id);
}

export async function mineRepo(
  r: RepoState,
  store: Store,
  o: { runDir: string; prs?: number; since?: string; signal?: AbortSignal },
): Promise<Mined> {
  let source: GitSource;
  // A repository mined to its budget in an earlier session is read from its clone here (no fetch).
  const clone = store.getMeta(`git_dir:${r.name}`);
  const settled = mineBudget(store, r.name)?.complete && o.prs !== undefined && clone && existsSync(clone);
  try {
    source = await GitSource.open(settled ? clone : r.location, {
      repoName: r.name,
      cacheDir: join(o.runDir, "repos"),
    });
  } catch (e) {
    if (!(e instanceof SourceError)) throw e;
    return classifySourceError(e.message, e.kind === "input");
  }
  try {
    const s = await mineWithinBudget(source, store, { limit: o.prs, since: o.since, signal: o.signal });
    store.setMeta(`git_dir:${r.name}`, source.git.dir);
    return { ok: true, gitDir: source.git.dir, pending: pendingTasks(store, r.name), ...s };
  } catch (e) {
    if (causeOf(e) === "disk_full" || (e as { code?: string }).code === "SQLITE_FULL") throw e;
    if (e instanceof SourceError) return classifySourceError(e.message, e.kind === "input");
    const msg = e instanceof Error ? e.message : String(e);
    if (saysSourceBroken(msg)) return classifySourceError(msg, true);
    return {
      ok: false,
      status: "unavailable",
      kind: "unreachable",
      detail: `mining failed: ${msg.split("\n")[0]}`,
    };
  } finally {
    await source.close();
  }
}
