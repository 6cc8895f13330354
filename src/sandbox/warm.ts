/**
 * Container start-up and removal off the critical path: `warmSandbox` wraps a sandbox so that a container
 * can be started ahead (`prestart`, while the one before it still runs) and is handed out by the next
 * `start` of the very same spec, and so that removing a container returns at once while the engine removes
 * it in the background. A pre-started container has run nothing but its init (the same state as a fresh
 * one). `settle()` waits for every removal and removes the containers started ahead and never used.
 */
import { type Container, type ContainerSpec, passThrough, type Sandbox } from "./sandbox.ts";

export interface WarmSandbox extends Sandbox {
  /** Start a container for `spec` now, for a later `start` of the same spec. */
  prestart(spec: ContainerSpec): void;
  /** Wait for background removals; remove unused pre-started containers. */
  settle(): Promise<void>;
}

const key = (spec: ContainerSpec) => JSON.stringify(spec);

export function warmSandbox(sb: Sandbox): WarmSandbox {
  const ready = new Map<string, Promise<Container>[]>();
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const q = p.catch(() => undefined).finally(() => pending.delete(q));
    pending.add(q);
  };
  const backgroundRemoval = (c: Container): Container => ({
    id: c.id,
    exec: (script, o) => c.exec(script, o),
    writeFile: (p, content, mode) => c.writeFile(p, content, mode),
    readFile: (p) => c.readFile(p),
    copyIn: (h, p) => c.copyIn(h, p),
    commit: (tag) => c.commit(tag),
    async remove() {
      track(c.remove());
    },
  });
  return {
    ...passThrough(sb),
    prestart(spec) {
      const p = sb.start(spec);
      p.catch(() => undefined);
      ready.set(key(spec), [...(ready.get(key(spec)) ?? []), p]);
    },
    async start(spec) {
      const queue = ready.get(key(spec));
      const ahead = queue?.shift();
      if (ahead) {
        // One that failed to start ahead is tried again here, as a fresh start would be.
        const c = await ahead.catch(() => undefined);
        if (c) return backgroundRemoval(c);
      }
      return backgroundRemoval(await sb.start(spec));
    },
    async settle() {
      const unused = [...ready.values()].flat();
      ready.clear();
      for (const p of unused) track(p.then((c) => c.remove()));
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
