/**
 * Fair turns across repositories. Tasks are handed out one repository at a time, round robin, so a
 * repository with thousands of tasks gets one turn in R like every other and cannot starve the rest; each
 * repository's budgets (tasks built, wall time) are checked at its turn, counting tasks under way.
 * `next()` waits while nothing can be handed out but something may change it (tasks under way, mining not
 * finished, a pause), and ends (undefined) when nothing ever can.
 */
export interface LaneBudget {
  builds?: number;
  wallMs?: number;
}

interface Lane<T> {
  name: string;
  pending: T[];
  /** Index of the next pending task (pending is consumed from the front). */
  head: number;
  inFlight: number;
  /** Tasks built earlier in the run (instances and build/validate rejections). */
  done: number;
  spentMs: number;
  mining: boolean;
  blocked?: string;
  stopped?: "builds" | "wall_ms";
  inRing: boolean;
}

/** Hands out items of type T (tasks, or their ids) per repository. */
export class FairScheduler<T = unknown> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Repositories that may have a task to hand out, in turn order. */
  private ring: Lane<T>[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];
  private pausedFor: string | undefined;
  private readonly budget: LaneBudget;
  /** Tasks handed out and not settled. */
  inFlight = 0;

  constructor(budget: LaneBudget = {}) {
    this.budget = budget;
  }

  /** A repository joins (once); `done` and `spentMs` are what earlier runs of the same run spent on it. */
  addRepo(name: string, o: { done?: number; spentMs?: number; mining?: boolean } = {}): void {
    if (this.lanes.has(name)) return;
    this.lanes.set(name, {
      name,
      pending: [],
      head: 0,
      inFlight: 0,
      done: o.done ?? 0,
      spentMs: o.spentMs ?? 0,
      mining: o.mining ?? true,
      inRing: false,
    });
    this.wake();
  }

  /** Tasks of a repository to hand out (after mining), in the order given. */
  addTasks(name: string, tasks: readonly T[]): void {
    const l = this.lane(name);
    l.pending.push(...tasks);
    this.enter(l);
  }

  /** Mining of a repository ended: no more tasks will come for it in this run. */
  mined(name: string): void {
    this.lane(name).mining = false;
    this.wake();
  }

  /** Hand out no more tasks of a repository in this run (its source is broken). */
  block(name: string, why: string): void {
    const l = this.lane(name);
    l.blocked ??= why;
    l.mining = false;
    this.wake();
  }

  /** Hand out nothing until `resume` (an engine or registry outage). */
  pause(why: string): void {
    this.pausedFor = why;
  }

  resume(): void {
    this.pausedFor = undefined;
    this.wake();
  }

  get paused(): string | undefined {
    return this.pausedFor;
  }

  /**
   * A task handed out came back: `built` when it now has an outcome (an instance or a rejection), with the
   * wall time it took; `requeue` puts it back (the machine failed, not the task).
   */
  settle(name: string, o: { built: boolean; ms?: number; requeue?: T }): void {
    const l = this.lane(name);
    l.inFlight--;
    this.inFlight--;
    if (o.built) l.done++;
    l.spentMs += o.ms ?? 0;
    if (o.requeue && !l.blocked) l.pending.splice(l.head, 0, o.requeue);
    this.enter(l);
    this.wake();
  }

  /** The next task, in fair turns; undefined when no task will ever be handed out in this run. */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (!this.pausedFor) {
        const t = this.take();
        if (t) return t;
      }
      if (!this.pausedFor && this.inFlight === 0 && ![...this.lanes.values()].some((l) => l.mining))
        return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  /** Why a repository's remaining tasks were left: a budget, or a block. */
  stoppedBy(name: string): "builds" | "wall_ms" | undefined {
    return this.lanes.get(name)?.stopped;
  }

  /** Tasks of a repository still to hand out. */
  left(name: string): number {
    const l = this.lanes.get(name);
    return l ? l.pending.length - l.head : 0;
  }

  /** Whether a repository has nothing under way and nothing more to hand out in this run. */
  finished(name: string): boolean {
    const l = this.lanes.get(name);
    return !!l && !l.mining && l.inFlight === 0 && (this.left(name) === 0 || !!l.stopped || !!l.blocked);
  }

  spent(name: string): { done: number; spentMs: number; inFlight: number } {
    const l = this.lane(name);
    return { done: l.done, spentMs: l.spentMs, inFlight: l.inFlight };
  }

  private take(): T | undefined {
    while (this.ring.length) {
      if (this.cursor >= this.ring.length) this.cursor = 0;
      const l = this.ring[this.cursor] as Lane<T>;
      const why = this.holds(l);
      if (why !== "ok") {
        // Out of the ring until something changes for it (a settle, new tasks); budgets end it for good.
        if (why === "builds" || why === "wall_ms") l.stopped = why;
        l.inRing = false;
        this.ring.splice(this.cursor, 1);
        continue;
      }
      const t = l.pending[l.head++] as T;
      if (l.head > 1024 && l.head * 2 > l.pending.length) {
        l.pending = l.pending.slice(l.head);
        l.head = 0;
      }
      l.inFlight++;
      this.inFlight++;
      this.cursor++;
      return t;
    }
    return undefined;
  }

  /** Whether a lane can hand out a task now, else why not. */
  private holds(l: Lane<T>): "ok" | "empty" | "blocked" | "builds" | "wall_ms" | "busy" {
    if (l.blocked) return "blocked";
    if (l.head >= l.pending.length) return "empty";
    if (this.budget.wallMs !== undefined && l.spentMs >= this.budget.wallMs) return "wall_ms";
    if (this.budget.builds !== undefined && l.done + l.inFlight >= this.budget.builds)
      return l.done >= this.budget.builds ? "builds" : "busy";
    return "ok";
  }

  private enter(l: Lane<T>): void {
    if (l.inRing || l.blocked || l.stopped) return;
    if (l.head >= l.pending.length) return;
    l.inRing = true;
    this.ring.push(l);
    this.wake();
  }

  private lane(name: string): Lane<T> {
    const l = this.lanes.get(name);
    if (!l) throw new Error(`unknown repository ${name}`);
    return l;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }
}
