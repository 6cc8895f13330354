import { availableParallelism } from "node:os";

/** Run `fn` over `items` with at most `n` at once; resolves when all are done (rejects on the first throw). */
export async function pool<T>(
  items: readonly T[],
  n: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, lane));
}

/**
 * Container lanes of one gate: at most `size` at once; a waiter of a lower `priority` number is served
 * first (state runs before probes), in arrival order within a priority; an exclusive holder has every lane
 * (it runs alone, as it would in a sequential run).
 */
export class Lanes {
  readonly size: number;
  private used = 0;
  private readonly waiters: { priority: number; weight: number; wake: () => void }[] = [];

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  get inUse(): number {
    return this.used;
  }

  /**
   * Take one lane (all with `exclusive`, none with `weight: 0`: a holder that takes no lane, such as a
   * container held to a fraction of a CPU); the returned function gives it back (idempotent).
   */
  async acquire(o: { priority?: number; exclusive?: boolean; weight?: 0 | 1 } = {}): Promise<() => void> {
    const weight = o.exclusive ? this.size : (o.weight ?? 1);
    if (weight === 0) return () => {};
    const priority = o.priority ?? 0;
    if (this.waiters.length || this.used + weight > this.size)
      await new Promise<void>((wake) => {
        const at = this.waiters.findIndex((w) => w.priority > priority);
        const w = { priority, weight, wake };
        if (at < 0) this.waiters.push(w);
        else this.waiters.splice(at, 0, w);
        this.drain();
      });
    else this.used += weight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= weight;
      this.drain();
    };
  }

  private drain(): void {
    while (this.waiters.length && this.used + this.waiters[0]!.weight <= this.size) {
      const w = this.waiters.shift()!;
      this.used += w.weight;
      w.wake();
    }
  }
}

/** Lanes for a gate: SWEU_STATE_LANES, else the machine's cores (at least 1). */
export function defaultLanes(): number {
  const env = Number(process.env.SWEU_STATE_LANES);
  return Number.isFinite(env) && env >= 1 ? Math.floor(env) : Math.max(1, availableParallelism());
}
