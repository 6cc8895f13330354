/**
 * How verbs open a run folder: writers take the folder's lock (src/run/lock.ts) and register the store to
 * be closed at a signal; readers open the store read-only. A folder holds one repository: a verb that would
 * mix another one in (a different name, or the same local name from another repository) is refused.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { STORE_FILE, storePath } from "../export/run-dir.ts";
import { lockRunDir, RunDirBusy } from "../run/lock.ts";
import { ensureFolder } from "../store/open.ts";
import { SqliteStore } from "../store/sqlite.ts";
import { run } from "../util/exec.ts";
import { CliError, Exit } from "./exit-codes.ts";
import { closeOnInterrupt, interruption } from "./signals.ts";

export interface OpenRun {
  store: SqliteStore;
  /** Close the store and release the folder's lock. */
  close(): void;
}

/** Bad input (exit 3) when `runDir` holds no store. */
export function assertRunExists(runDir: string): void {
  if (!existsSync(storePath(runDir)))
    throw new CliError(
      `no run at ${runDir} (no ${storePath(runDir)}; run \`swe-universe mine\` first)`,
      Exit.input,
    );
}

/**
 * Lock `runDir` and open its store. `create`: make the folder and store when missing (mine, run); otherwise
 * a folder without a store is bad input. `wait: false` fails at once when another process holds the lock.
 */
export async function openRunFolder(
  runDir: string,
  o: { verb: string; create?: boolean; wait?: boolean },
): Promise<OpenRun> {
  if (!o.create) assertRunExists(runDir);
  else ensureFolder(runDir);
  let lock: Awaited<ReturnType<typeof lockRunDir>>;
  try {
    lock = await lockRunDir(runDir, {
      verb: o.verb,
      wait: o.wait,
      signal: interruption,
      onWait: (h) =>
        process.stderr.write(
          `swe-universe: waiting for pid ${h.pid} (${h.verb}, since ${h.since}) to finish with ${runDir} (--no-wait to give up at once)\n`,
        ),
    });
  } catch (e) {
    if (e instanceof RunDirBusy)
      throw new CliError(`${e.message}; try again when it has finished`, Exit.unavailable);
    throw e;
  }
  if (!lock) throw new CliError("stopped while waiting for the run folder", Exit.interrupted);
  let store: SqliteStore;
  try {
    store = new SqliteStore(storePath(runDir));
  } catch (e) {
    lock.release();
    throw e;
  }
  const forget = closeOnInterrupt(() => store.close());
  return {
    store,
    close() {
      forget();
      store.close();
      lock.release();
    },
  };
}

/** The store of `runDir` opened read-only (no lock: readers never change it); undefined when there is none. */
export function openRunReadOnly(runDir: string): SqliteStore | undefined {
  const path = storePath(runDir);
  return existsSync(path) ? new SqliteStore(path, { readonly: true }) : undefined;
}

async function hasCommit(gitDir: string, sha: string): Promise<boolean> {
  const r = await run("git", ["-C", gitDir, "cat-file", "-e", `${sha}^{commit}`]);
  return r.exitCode === 0;
}

/** Refuse to put `repo` (cloned at `gitDir`) into a folder that holds another repository. */
export async function assertFolderHolds(
  store: SqliteStore,
  runDir: string,
  repo: string,
  gitDir?: string,
): Promise<void> {
  const others = store.repos().filter((r) => r !== repo);
  if (others.length > 0)
    throw new CliError(
      `the run folder ${runDir} already belongs to ${others.join(", ")}, not ${repo}: give another --run-dir`,
      Exit.input,
    );
  if (gitDir) await assertCloneOf(store, repo, gitDir, runDir);
}

/** Refuse a clone that lacks the commits the run recorded for `repo` (another repository of the same name). */
export async function assertCloneOf(
  store: SqliteStore,
  repo: string,
  gitDir: string,
  runDir: string,
): Promise<void> {
  const sample = store.sampleCandidate(repo);
  if (!sample || (await hasCommit(gitDir, sample.resolved_commit))) return;
  const recorded = store.getMeta(`git_dir:${repo}`);
  throw new CliError(
    `${gitDir} is not the repository the run folder ${runDir} holds as ${repo}` +
      `${recorded ? ` (from ${recorded})` : ""}: commit ${sample.resolved_commit.slice(0, 12)} is missing; ` +
      "give another --run-dir, or --repo-name owner/name to tell them apart",
    Exit.input,
  );
}

/**
 * --run-dir, else SWEU_RUN_DIR, else the only run under ./runs/ (where `run` and `mine` put them).
 * With several runs there and no flag, say which to choose rather than guess.
 */
export function resolveRunDir(flag: string | undefined): string {
  const explicit = flag ?? process.env.SWEU_RUN_DIR;
  if (explicit) return resolve(explicit);
  const runs = existsSync("runs")
    ? readdirSync("runs").filter((d) => existsSync(join("runs", d, STORE_FILE)))
    : [];
  if (runs.length === 1) return resolve("runs", runs[0]!);
  throw new CliError(
    runs.length
      ? `several runs under ./runs (${runs.join(", ")}): pass --run-dir`
      : "no run found under ./runs: pass --run-dir (or set SWEU_RUN_DIR)",
    Exit.usage,
  );
}
