/**
 * How a gate's checks share the machine: each check sees the gate's sandbox through `laneSandbox`, whose
 * containers each hold one of the gate's lanes (src/util/pool.ts Lanes) from start to removal. Stopping a
 * check (its `stop` signal) removes its live containers at once, which ends their running scripts, and
 * refuses new ones: a failing gate ends the remaining runs without waiting for them.
 */
import { type Container, passThrough, type Sandbox } from "../sandbox/sandbox.ts";
import type { Lanes } from "../util/pool.ts";

export class Stopped extends Error {
  constructor() {
    super("stopped: an earlier check of the gate failed");
    this.name = "Stopped";
  }
}

export interface LaneOptions {
  /** Lower numbers are served first (state runs 0, probes 1). */
  priority?: number;
  /** Hold every lane: the container runs alone (the load probe's quota means nothing beside others). */
  exclusive?: boolean;
  /** 0: hold no lane (a container under a CPU quota beside the others: its quota bounds what it takes). */
  weight?: 0 | 1;
  stop?: AbortSignal;
}

/** The sandbox with each container behind a lane, and stopped with `o.stop`. */
export function laneSandbox(sb: Sandbox, lanes: Lanes, o: LaneOptions = {}): Sandbox {
  const live = new Set<Container>();
  o.stop?.addEventListener("abort", () => {
    for (const c of live) void c.remove().catch(() => undefined);
  });
  return {
    ...passThrough(sb),
    async start(spec) {
      if (o.stop?.aborted) throw new Stopped();
      const release = await lanes.acquire({ priority: o.priority, exclusive: o.exclusive, weight: o.weight });
      let c: Container;
      try {
        if (o.stop?.aborted) throw new Stopped();
        c = await sb.start(spec);
      } catch (e) {
        release();
        throw e;
      }
      const held: Container = {
        id: c.id,
        exec: (script, x) => c.exec(script, x),
        writeFile: (p, content, mode) => c.writeFile(p, content, mode),
        readFile: (p) => c.readFile(p),
        copyIn: (h, p) => c.copyIn(h, p),
        commit: (tag) => c.commit(tag),
        async remove() {
          live.delete(held);
          try {
            await c.remove();
          } finally {
            // The lane passes on after the caller has read the run (a run that rejects stops the gate's
            // waiting runs before one of them starts a container).
            setImmediate(release);
          }
        },
      };
      live.add(held);
      // Stopped while it started: remove it now (its user's next call fails, its result is dropped).
      if (o.stop?.aborted) void held.remove().catch(() => undefined);
      return held;
    },
  };
}
