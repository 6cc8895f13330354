/**
 * A warm pool of started, never-used containers per container spec (image, network, limits), so a
 * session or a grading run does not wait for the engine to create one. A container is handed out once and
 * is as fresh as one started on demand; the pool refills behind it, one start at a time per spec, within a
 * total cap (the least recently used spec gives up its containers first).
 */
import type { Container, ContainerSpec, Sandbox } from "../sandbox/sandbox.ts";
import { log } from "../util/log.ts";

export interface PoolOptions {
  /** Containers kept ready per spec once the spec has been asked for (0 = no pool). */
  perSpec: number;
  /** Ready containers across every spec. */
  max: number;
}

interface Bucket {
  spec: ContainerSpec;
  ready: Container[];
  filling: boolean;
  usedAt: number;
}

export function specKey(spec: ContainerSpec): string {
  return JSON.stringify([spec.image, spec.network ?? false, spec.limits ?? {}, spec.labels ?? {}]);
}

export class WarmPool {
  private readonly buckets = new Map<string, Bucket>();
  private closed = false;
  private readonly sandbox: Sandbox;
  private readonly o: PoolOptions;

  constructor(sandbox: Sandbox, o: PoolOptions) {
    this.sandbox = sandbox;
    this.o = o;
  }

  get size(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.ready.length;
    return n;
  }

  /** A ready container for `spec` when there is one (warm), else one started now; the pool refills. */
  async take(spec: ContainerSpec): Promise<{ container: Container; warm: boolean }> {
    const b = this.bucket(spec);
    b.usedAt = Date.now();
    const ready = b.ready.shift();
    this.refill(b);
    if (ready) return { container: ready, warm: true };
    return { container: await this.sandbox.start(spec), warm: false };
  }

  /** Start filling the pool for a spec before anyone asks (`serve --prewarm`). */
  prewarm(spec: ContainerSpec): void {
    this.refill(this.bucket(spec));
  }

  /** Wait until every bucket is as full as it will get (tests and benchmarks). */
  async settled(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ([...this.buckets.values()].some((b) => b.filling) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
  }

  /** Remove every ready container; no more are started. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.buckets.values()].flatMap((b) => b.ready.splice(0));
    await Promise.all(all.map((c) => c.remove().catch(() => undefined)));
  }

  private bucket(spec: ContainerSpec): Bucket {
    const key = specKey(spec);
    let b = this.buckets.get(key);
    if (!b) {
      b = { spec, ready: [], filling: false, usedAt: Date.now() };
      this.buckets.set(key, b);
    }
    return b;
  }

  private refill(b: Bucket): void {
    if (b.filling || this.closed || this.o.perSpec <= 0) return;
    b.filling = true;
    void this.fill(b).finally(() => {
      b.filling = false;
    });
  }

  private async fill(b: Bucket): Promise<void> {
    while (!this.closed && b.ready.length < this.o.perSpec) {
      if (this.size >= this.o.max && !(await this.evictFor(b))) return;
      try {
        const c = await this.sandbox.start(b.spec);
        if (this.closed) await c.remove();
        else b.ready.push(c);
      } catch (e) {
        log.warn(
          { image: b.spec.image, err: (e as Error).message },
          "warm pool: starting a container failed",
        );
        return;
      }
    }
  }

  /** Free one slot from the least recently used other spec; false when there is none to take. */
  private async evictFor(b: Bucket): Promise<boolean> {
    const victims = [...this.buckets.values()]
      .filter((x) => x !== b && x.ready.length > 0 && x.usedAt < b.usedAt)
      .sort((x, y) => x.usedAt - y.usedAt);
    const c = victims[0]?.ready.pop();
    if (!c) return false;
    await c.remove().catch(() => undefined);
    return true;
  }
}
