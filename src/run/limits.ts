/**
 * Per-resource concurrency limits in one place: small counting semaphores for containers, image builds,
 * model calls and GitHub requests, and wrappers that put a Sandbox or a Model behind them. With
 * `--workers N` several tasks run at once in one process; these keep the engine and the endpoints from
 * being flooded no matter how many tasks are in flight.
 */
import type { Model } from "../model/model.ts";
import { type Container, passThrough, type Sandbox } from "../sandbox/sandbox.ts";
import { Semaphore } from "../util/semaphore.ts";

export { Semaphore };

export interface ResourceLimits {
  /** Live containers at once. */
  containers: number;
  /** Image builds at once. */
  builds: number;
  /** Model calls in flight. */
  modelCalls: number;
  /** GitHub API requests in flight. */
  githubRequests: number;
}

/** Defaults for `workers` tasks in flight: builds are the heavy part, containers follow the tasks. */
export function defaultLimits(workers: number): ResourceLimits {
  const w = Math.max(1, workers);
  return {
    containers: w * 2,
    builds: Math.max(1, Math.ceil(w / 2)),
    modelCalls: w * 2,
    githubRequests: 4,
  };
}

export interface Limiters {
  containers: Semaphore;
  builds: Semaphore;
  modelCalls: Semaphore;
  githubRequests: Semaphore;
}

export function limiters(l: ResourceLimits): Limiters {
  return {
    containers: new Semaphore(l.containers),
    builds: new Semaphore(l.builds),
    modelCalls: new Semaphore(l.modelCalls),
    githubRequests: new Semaphore(l.githubRequests),
  };
}

/** The same sandbox with `build` behind the builds semaphore and each container holding a container slot. */
export function limitSandbox(sb: Sandbox, l: Limiters): Sandbox {
  return {
    ...passThrough(sb),
    build: (spec) => l.builds.with(() => sb.build(spec)),
    async start(spec) {
      const release = await l.containers.acquire();
      let c: Container;
      try {
        c = await sb.start(spec);
      } catch (e) {
        release();
        throw e;
      }
      return {
        id: c.id,
        exec: (script, o) => c.exec(script, o),
        writeFile: (p, content, mode) => c.writeFile(p, content, mode),
        readFile: (p) => c.readFile(p),
        copyIn: (h, p) => c.copyIn(h, p),
        commit: (tag) => c.commit(tag),
        async remove() {
          try {
            await c.remove();
          } finally {
            release();
          }
        },
      };
    },
  };
}

export function limitModel(m: Model, l: Limiters): Model {
  return { name: m.name, complete: (messages, o) => l.modelCalls.with(() => m.complete(messages, o)) };
}

export { pool } from "../util/pool.ts";
