/**
 * CPU accounting for synthetic tasks: a Sandbox wrapper that reads each container's CPU time from its
 * cgroup just before the container is removed (cgroup v1 `cpuacct.usage` or v2 `cpu.stat`, found on the
 * host by the container's id), and adds it to the meter. Where the engine's cgroups are not on this host
 * (a remote engine, Kubernetes) it counts the container's wall time instead and says so (`measured`).
 * Image builds are counted by wall time (a thin layer's build is mostly copying).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Container, Sandbox } from "../sandbox/sandbox.ts";

export interface Meter {
  cpuMs: number;
  wallMs: number;
  /** false once a container's CPU time could not be read and its wall time was counted instead. */
  measured: boolean;
}

export const newMeter = (): Meter => ({ cpuMs: 0, wallMs: 0, measured: true });

const ROOTS = [
  "/sys/fs/cgroup/cpuacct",
  "/sys/fs/cgroup/cpu,cpuacct",
  "/sys/fs/cgroup",
  "/sys/fs/cgroup/unified",
];

/** The cgroup folder of a container: a folder whose name holds the id, at most three levels down. */
function cgroupDir(id: string): string | undefined {
  const walk = (dir: string, depth: number): string | undefined => {
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return undefined;
    }
    const hit = entries.find((e) => e.includes(id));
    if (hit) return join(dir, hit);
    if (depth === 0) return undefined;
    for (const e of entries) {
      if (!/libpod|machine|docker|system\.slice|containers/.test(e)) continue;
      const r = walk(join(dir, e), depth - 1);
      if (r) return r;
    }
    return undefined;
  };
  for (const root of ROOTS) {
    const d = walk(root, 3);
    if (d) return d;
  }
  return undefined;
}

/** CPU time used so far by the cgroup in `dir`, ms. */
function cpuMsOf(dir: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, "cpuacct.usage"), "utf8")) / 1e6;
  } catch {}
  try {
    const m = /^usage_usec (\d+)$/m.exec(readFileSync(join(dir, "cpu.stat"), "utf8"));
    return m ? Number(m[1]) / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** `sandbox` with every container's CPU time (or wall time) added to `meter` when it is removed. */
export function meteredSandbox(sandbox: Sandbox, meter: () => Meter): Sandbox {
  const wrapped = Object.create(sandbox) as Sandbox;
  wrapped.start = async (spec) => {
    const started = Date.now();
    const c = await sandbox.start(spec);
    const dir = cgroupDir(c.id.slice(0, 64));
    let counted = false;
    const remove = async () => {
      if (!counted) {
        counted = true;
        const m = meter();
        const wall = Date.now() - started;
        const cpu = dir ? cpuMsOf(dir) : undefined;
        m.wallMs += wall;
        if (cpu === undefined) {
          m.measured = false;
          m.cpuMs += wall;
        } else m.cpuMs += cpu;
      }
      await c.remove();
    };
    return new Proxy(c, {
      get: (target, prop) =>
        prop === "remove" ? remove : (Reflect.get(target, prop) as unknown as Container[keyof Container]),
    });
  };
  const build = sandbox.build.bind(sandbox);
  wrapped.build = async (spec) => {
    const r = await build(spec);
    const m = meter();
    m.cpuMs += r.durationMs;
    m.wallMs += r.durationMs;
    return r;
  };
  return wrapped;
}
