/**
 * The files a fix changes, as they are in the image before and after it: what the rewriting probes start
 * from. Read once per image and patch in one throw-away container (the repository is not at hand in an
 * audit, only the image), and kept for the process: auditing many verifiers of one task reads them once.
 */
import { createHash } from "node:crypto";
import { applyScript } from "../harness/run-state.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

export interface FixFile {
  path: string;
  /** The file's `diff --git` section of the fix. */
  section: string;
  /** Contents before and after the fix; undefined where the file does not exist (added, deleted, too big). */
  base?: string;
  resolved?: string;
}

export type FixSources = { ok: true; files: FixFile[] } | { ok: false; error: string };

const MAX_BYTES = 512 * 1024;
const cache = new Map<string, Promise<FixSources>>();

/** The `diff --git` sections of a patch, by the path they change (the new side's). */
export function patchSections(patch: string): { path: string; section: string }[] {
  return patch
    .split(/^(?=diff --git )/m)
    .filter((s) => s.startsWith("diff --git "))
    .map((section) => ({ path: /^diff --git a\/.+? b\/(.+?)$/m.exec(section)?.[1] ?? "", section }))
    .filter((s) => s.path);
}

export function fixSources(sandbox: Sandbox, image: string, patch: string): Promise<FixSources> {
  const key = `${image}\u0000${createHash("sha256").update(patch).digest("hex")}`;
  let p = cache.get(key);
  if (!p) {
    p = readFixSources(sandbox, image, patch).catch((e: Error) => ({ ok: false as const, error: e.message }));
    cache.set(key, p);
  }
  return p;
}

async function readFixSources(sandbox: Sandbox, image: string, patch: string): Promise<FixSources> {
  const sections = patchSections(patch);
  const c = await sandbox.start({ image, network: false, labels: { "sweu.role": "probe-prep" } });
  try {
    const read = async (path: string) => {
      const size = await c.exec(`stat -c %s -- ${JSON.stringify(path)} 2>/dev/null`, {
        workdir: "/testbed",
        timeoutMs: 30_000,
      });
      const n = Number(size.output.trim());
      if (size.exitCode !== 0 || !Number.isFinite(n) || n > MAX_BYTES) return undefined;
      return (await c.readFile(`/testbed/${path}`)).toString("utf8");
    };
    const base = await Promise.all(sections.map((s) => read(s.path)));
    await c.writeFile("/tmp/sweu-prep.diff", patch);
    const applied = await c.exec(applyScript("/tmp/sweu-prep.diff"), {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    if (applied.exitCode !== 0)
      return { ok: false, error: `the fix does not apply in the image: ${applied.output.slice(-300)}` };
    const resolved = await Promise.all(sections.map((s) => read(s.path)));
    return {
      ok: true,
      files: sections.map((s, i) => ({ ...s, base: base[i], resolved: resolved[i] })),
    };
  } finally {
    await c.remove();
  }
}
