/**
 * The coordinator of a universe run: many repositories, one store, one dataset. Repositories are mined a
 * few at a time within their budgets while their tasks are built; tasks go to the queue (in-process, or
 * BullMQ workers on other machines) in fair turns across repositories (src/universe/scheduler.ts); results
 * come back here and this process writes them (the single writer). Everything a resumed run needs is in
 * the store: the budgets, the repositories and where each stands, the candidates mined, time spent.
 *
 * Failures of the infrastructure never become rejections: a broken repository is named once and its
 * tasks stay pending; a failing engine or a refusing registry pauses the run (one line each) and it goes
 * on by itself; a job that failed for another reason stays pending for the next run.
 */
import type { Model } from "../model/model.ts";
import type { JobFeed, JobNotice, JobQueue, JobResult, JobSpec } from "../queue/queue.ts";
import type { Budgets, InputNote, RepoState } from "../records/index.ts";
import { applyBuildResult, keepTrajectory } from "../run/dispatch.ts";
import type { BuildJobData, BuildJobResult } from "../run/jobs.ts";
import { localQueue } from "../run/pipeline.ts";
import { pushPending } from "../run/push.ts";
import { type TaskOptions, taskOptionsOf } from "../run/task.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";
import { addNote, countInfra, readRepo, readRepos, writeRepo } from "../store/universe.ts";
import { pool } from "../util/pool.ts";
import type { ListedRepo } from "./inputs.ts";
import { mineRepo } from "./mining.ts";
import { FairScheduler } from "./scheduler.ts";

export interface UniverseOptions extends TaskOptions {
  runDir: string;
  budgets: Budgets;
  since?: string;
  /** Workers elsewhere (BullMQ); default: the in-process queue with `workers` tasks at once. */
  queue?: JobQueue;
  workers?: number;
  /** Jobs outstanding on a remote queue at most (default 2 per repository being built, 8 to 64). */
  window?: number;
  /** Repositories mined at once (default 2). */
  miningConcurrency?: number;
  model?: Model;
  minFreeDisk?: number;
  diskCheckMs?: number;
  /** First wait after an engine failure, doubled each time up to 10 min (default 30 s). */
  engineBackoffMs?: number;
  /** How often a paused run asks the registry whether it answers again (default 15 s). */
  registryCheckMs?: number;
  signal?: AbortSignal;
  onEvent?: (e: UniverseEvent) => void;
}

export type UniverseEvent =
  | { type: "note"; note: InputNote }
  | { type: "repo"; repo: string; status: string; detail?: string; tasks?: number }
  | {
      type: "task-end";
      repo: string;
      id: string;
      outcome: "instance" | "rejected";
      reason?: string;
      ms: number;
    }
  | { type: "infra"; kind: string; where: string; detail: string; action: string }
  | { type: "paused"; why: string }
  | { type: "resumed"; ms: number }
  | { type: "progress"; progress: UniverseProgress };

export interface UniverseProgress {
  repos: number;
  reposMined: number;
  reposDone: number;
  /** Tasks built (with an outcome) in this run so far, earlier sessions included. */
  done: number;
  /** Tasks this run will build, as far as known: mined ones within budgets, and an estimate for the rest. */
  expected: number;
  instances: number;
  /** Tasks finished in this session, and its start (for a rate). */
  session: { done: number; startedAt: number };
}

export interface UniverseSummary {
  repos: RepoState[];
  built: number;
  instances: number;
  rejected: number;
  /** Tasks whose job failed for the machine's reasons, left pending. */
  failed: number;
}

/** Record the repositories listed (new ones only, in order) and the notes about the inputs. */
export function recordListing(
  store: Store,
  listing: { repos: ListedRepo[]; notes: InputNote[] },
  onNote?: (n: InputNote) => void,
): void {
  let order = readRepos(store).length;
  store.transaction(() => {
    for (const n of listing.notes) if (addNote(store, n)) onNote?.(n);
    for (const r of listing.repos) {
      if (readRepo(store, r.name)) continue;
      writeRepo(store, {
        name: r.name,
        order: order++,
        from: r.from,
        input: r.input,
        location: r.location,
        ...(r.cloneUrl ? { clone_url: r.cloneUrl } : {}),
        status: "listed",
        spent_ms: 0,
      });
    }
  });
}

export async function runUniverse(
  store: Store,
  sandbox: Sandbox,
  o: UniverseOptions,
): Promise<UniverseSummary> {
  const u = new Universe(store, sandbox, o);
  return u.run();
}

class Universe {
  /** Hands out task ids (the tasks themselves stay in the store until their turn). */
  private readonly sched: FairScheduler<string>;
  private readonly repos = new Map<string, RepoState>();
  private readonly gitDirs = new Map<string, string>();
  private readonly handed = new Map<string, { repo: string }>();
  private readonly summary: UniverseSummary = { repos: [], built: 0, instances: 0, rejected: 0, failed: 0 };
  private readonly started = Date.now();
  private sessionDone = 0;
  private engineWaitMs: number;
  private pausedAt = 0;
  private readonly store: Store;
  private readonly sandbox: Sandbox;
  private readonly o: UniverseOptions;

  constructor(store: Store, sandbox: Sandbox, o: UniverseOptions) {
    this.store = store;
    this.sandbox = sandbox;
    this.o = o;
    this.sched = new FairScheduler<string>({ builds: o.budgets.builds, wallMs: o.budgets.wall_ms });
    this.engineWaitMs = o.engineBackoffMs ?? 30_000;
  }

  async run(): Promise<UniverseSummary> {
    const counts = new Map(this.store.repoCounts().map((c) => [c.repo, c]));
    for (const r of readRepos(this.store)) {
      this.repos.set(r.name, r);
      const c = counts.get(r.name);
      this.sched.addRepo(r.name, { done: (c?.instances ?? 0) + (c?.failed ?? 0), spentMs: r.spent_ms });
    }
    const queue =
      this.o.queue ??
      (await localQueue(this.store, this.sandbox, {
        ...taskOptionsOf(this.o),
        runDir: this.o.runDir,
        workers: this.o.workers,
        model: this.o.model,
        minFreeDisk: this.o.minFreeDisk,
        diskCheckMs: this.o.diskCheckMs,
        onEvent: (e) => {
          if (e.type === "paused" || e.type === "resumed") this.event(e);
        },
      }));
    const feed: JobFeed = { next: () => this.next() };
    try {
      await Promise.all([
        this.mineAll(),
        queue.feed(feed, (r) => this.collect(r), {
          signal: this.o.signal,
          window: this.o.window ?? Math.min(64, Math.max(8, 2 * this.repos.size)),
          onNotice: (n) => this.notice(n),
        }),
      ]);
    } finally {
      if (!this.o.queue) await queue.close();
    }
    for (const r of this.repos.values()) this.closeRepo(r.name);
    this.progress(true);
    this.summary.repos = readRepos(this.store);
    return this.summary;
  }

  private async mineAll(): Promise<void> {
    const todo = [...this.repos.values()];
    await pool(
      todo,
      this.o.miningConcurrency ?? 2,
      async (r) => {
        this.event({ type: "repo", repo: r.name, status: "mining" });
        const m = await mineRepo(r, this.store, {
          runDir: this.o.runDir,
          prs: this.o.budgets.prs,
          since: this.o.since,
          signal: this.o.signal,
        });
        if (!m.ok) {
          this.setRepo(r.name, { status: m.status, detail: m.detail });
          const note = { from: r.from, input: r.input, kind: m.kind, detail: m.detail, repo: r.name };
          if (addNote(this.store, note)) this.event({ type: "note", note });
          this.event({ type: "repo", repo: r.name, status: m.status, detail: m.detail });
          this.sched.block(r.name, m.detail);
          return;
        }
        this.gitDirs.set(r.name, m.gitDir);
        this.setRepo(r.name, { status: "mined", detail: undefined });
        this.sched.addTasks(r.name, m.pending);
        this.sched.mined(r.name);
        this.event({ type: "repo", repo: r.name, status: "mined", tasks: m.pending.length });
        this.progress();
      },
      this.o.signal,
    );
    // Repositories never reached (aborted) hand out nothing.
    for (const r of todo)
      if (!this.gitDirs.has(r.name)) this.sched.block(r.name, "not mined in this session");
  }

  private async next(): Promise<JobSpec | undefined> {
    const id = await this.sched.next();
    if (!id) return undefined;
    const t = this.store.getTask(id)!;
    this.handed.set(id, { repo: t.repo });
    const r = this.repos.get(t.repo)!;
    const remote = !!this.o.queue;
    const data: BuildJobData = {
      task: t,
      // Here: the coordinator's clone. Elsewhere: what a worker can fetch itself.
      location: remote ? (r.clone_url ?? r.location) : (this.gitDirs.get(t.repo) ?? r.location),
      ...(r.clone_url ? { cloneUrl: r.clone_url } : {}),
      repoName: t.repo,
      // A worker elsewhere hands a job back on a refused push: the dataset names only registry images.
      options: {
        ...taskOptionsOf(this.o),
        ...(remote && this.o.registry ? { pushRefused: "hand-back" as const } : {}),
      },
      ...(remote ? { environments: this.recentEnvironments(t.repo) } : {}),
    };
    return { id: t.instance_id, name: "build-task", data };
  }

  /** The repository's latest environments, with the registry names workers pull them by. */
  private recentEnvironments(repo: string) {
    return this.store
      .listEnvironments(repo)
      .sort((a, b) => b.created_at.localeCompare(a.created_at))
      .slice(0, 8);
  }

  private async collect(r: JobResult): Promise<void> {
    const task = this.handed.get(r.id);
    if (!task) return;
    this.handed.delete(r.id);
    if (!r.ok) return this.failed(r.id, task.repo, r);
    const v = r.value as BuildJobResult;
    const now = this.store.outcome(r.id);
    if (now === "instance" || (now === "rejected" && this.store.getRejection(r.id)?.stage !== "mine")) {
      this.sched.settle(task.repo, { built: false });
      return;
    }
    const ms = v.ms ?? v.instance?.cost.wall_ms ?? 0;
    this.store.transaction(() => {
      applyBuildResult(this.store, v);
      const repo = this.repos.get(task.repo)!;
      this.setRepo(task.repo, { spent_ms: repo.spent_ms + ms });
    });
    keepTrajectory(this.o.runDir, r.id, v);
    this.engineWaitMs = this.o.engineBackoffMs ?? 30_000;
    this.sched.settle(task.repo, { built: true, ms });
    this.summary.built++;
    this.sessionDone++;
    if (v.outcome === "instance") this.summary.instances++;
    else this.summary.rejected++;
    this.event({
      type: "task-end",
      repo: task.repo,
      id: r.id,
      outcome: v.outcome,
      reason: v.rejection?.reason,
      ms,
    });
    if (v.push && !v.push.ok) this.registryRefused(r.id, v.push.error ?? "refused");
    this.closeRepo(task.repo);
    this.progress();
  }

  /** A job that failed for the machine's reasons: by its cause, the repository is named or the run pauses. */
  private failed(id: string, repo: string, r: Extract<JobResult, { ok: false }>): void {
    const first = r.error.split("\n")[0] ?? "";
    if (r.cause === "source") {
      this.sched.settle(repo, { built: false });
      if (this.repos.get(repo)?.status !== "input_error") {
        this.sched.block(repo, first);
        this.setRepo(repo, { status: "input_error", detail: first });
        const rs = this.repos.get(repo)!;
        addNote(this.store, { from: rs.from, input: rs.input, kind: "broken", detail: first, repo });
        this.infra("source", repo, first, `its ${this.sched.left(repo) + 1} tasks stay pending`);
      }
      return;
    }
    if (r.cause === "engine" || r.cause === "disk_full") {
      this.sched.settle(repo, { built: false, requeue: id });
      this.infra(r.cause, r.id, first, "the task goes back to the queue; the run pauses");
      this.pauseFor(`the container engine failed (${first})`, this.engineWaitMs);
      this.engineWaitMs = Math.min(this.engineWaitMs * 2, 600_000);
      return;
    }
    this.sched.settle(repo, { built: false });
    this.summary.failed++;
    this.infra(r.cause ?? "job_failed", r.id, first, "the task stays pending for the next run");
  }

  private notice(n: JobNotice): void {
    this.infra(
      n.kind === "registry" ? "push_refused" : n.kind,
      n.worker,
      n.detail,
      `worker ${n.worker} handed ${n.id} back and pauses`,
    );
  }

  /** A push refused here: the instance is kept (its image is here); the run pauses until the registry answers. */
  private registryRefused(id: string, error: string): void {
    this.infra("push_refused", "coordinator", error.split("\n")[0] ?? error, `${id} is kept, not pushed yet`);
    const registry = this.o.registry;
    if (!registry || this.sched.paused) return;
    this.sched.pause(`the registry ${registry} refused a push`);
    this.pausedAt = Date.now();
    this.event({ type: "paused", why: `the registry ${registry} refused a push: waiting until it answers` });
    void this.waitForRegistry(registry);
  }

  private async waitForRegistry(registry: string): Promise<void> {
    const every = this.o.registryCheckMs ?? 15_000;
    for (;;) {
      if (this.o.signal?.aborted) return;
      await new Promise((r) => setTimeout(r, every));
      if (!(await registryAnswers(registry))) continue;
      const s = await pushPending(this.store, this.sandbox, registry, { attempts: 1 });
      if (s.refused.length === 0) break;
    }
    this.event({ type: "resumed", ms: Date.now() - this.pausedAt });
    this.sched.resume();
  }

  private pauseFor(why: string, ms: number): void {
    if (this.sched.paused) return;
    this.sched.pause(why);
    this.pausedAt = Date.now();
    this.event({ type: "paused", why: `${why}: trying again in ${Math.round(ms / 1000)} s` });
    setTimeout(() => {
      this.event({ type: "resumed", ms: Date.now() - this.pausedAt });
      this.sched.resume();
    }, ms).unref();
  }

  private infra(kind: string, where: string, detail: string, action: string): void {
    countInfra(this.store, kind, where, detail);
    this.event({ type: "infra", kind, where, detail, action });
  }

  private closeRepo(name: string): void {
    const r = this.repos.get(name);
    if (r?.status !== "mined" || !this.sched.finished(name)) return;
    const stopped = this.sched.stoppedBy(name);
    this.setRepo(name, { status: "done", ...(stopped ? { stopped } : {}) });
    this.event({ type: "repo", repo: name, status: "done", detail: stopped && `budget ${stopped} reached` });
  }

  private setRepo(name: string, patch: Partial<RepoState>): void {
    const next = { ...this.repos.get(name)!, ...patch };
    if (patch.detail === undefined && "detail" in patch) delete next.detail;
    this.repos.set(name, next);
    writeRepo(this.store, next);
  }

  private event(e: UniverseEvent): void {
    this.o.onEvent?.(e);
  }

  private lastProgress = 0;

  /** What the progress display shows, at most four times a second (it walks every repository). */
  private progress(force = false): void {
    if (!this.o.onEvent) return;
    const now = Date.now();
    if (!force && now - this.lastProgress < 250) return;
    this.lastProgress = now;
    let mined = 0;
    let done = 0;
    let expected = 0;
    let doneRepos = 0;
    const perRepo: number[] = [];
    for (const r of this.repos.values()) {
      if (r.status === "done") doneRepos++;
      if (!this.gitDirs.has(r.name) && r.status !== "input_error" && r.status !== "unavailable") continue;
      if (this.gitDirs.has(r.name)) mined++;
      const s = this.sched.spent(r.name);
      const stopped = this.sched.stoppedBy(r.name) || r.status !== "mined";
      const more = stopped ? 0 : this.sched.left(r.name);
      const cap =
        this.o.budgets.builds === undefined ? more : Math.max(0, this.o.budgets.builds - s.done - s.inFlight);
      const known = s.done + s.inFlight + Math.min(more, cap);
      done += s.done;
      expected += known;
      if (this.gitDirs.has(r.name)) perRepo.push(known);
    }
    const unmined = [...this.repos.values()].filter(
      (r) => !this.gitDirs.has(r.name) && r.status !== "input_error" && r.status !== "unavailable",
    ).length;
    const mean = perRepo.length
      ? perRepo.reduce((a, b) => a + b, 0) / perRepo.length
      : (this.o.budgets.builds ?? 0);
    this.event({
      type: "progress",
      progress: {
        repos: this.repos.size,
        reposMined: mined,
        reposDone: doneRepos,
        done,
        expected: Math.round(expected + unmined * mean),
        instances: this.summary.instances,
        session: { done: this.sessionDone, startedAt: this.started },
      },
    });
  }
}

/** Whether a registry answers its API root at all (200, or 401 asking for credentials). */
export async function registryAnswers(registry: string): Promise<boolean> {
  const host = registry.split("/")[0]!;
  const loopback = /^(localhost|127\.|\[::1\])/.test(host) || process.env.SWEU_REGISTRY_INSECURE === "1";
  for (const scheme of loopback ? ["http", "https"] : ["https", "http"]) {
    const ok = await fetch(`${scheme}://${host}/v2/`, { signal: AbortSignal.timeout(5000) })
      .then((r) => r.status === 200 || r.status === 401)
      .catch(() => false);
    if (ok) return true;
  }
  return false;
}
