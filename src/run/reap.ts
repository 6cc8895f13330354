/**
 * Leftovers of killed processes. Every container carries `sweu.session=<pid>-<rand>`; a process killed
 * with SIGKILL removes nothing, so the next start removes the containers whose session pid is no longer
 * alive on this host. A live pid (even a reused one) keeps its containers: removal is conservative.
 */
import { OciSandbox, SESSION_LABEL } from "../sandbox/oci.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { log } from "../util/log.ts";

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Remove containers left by dead sessions; returns their names. Engines other than OCI are left alone. */
export async function reapOrphans(sandbox: Sandbox): Promise<string[]> {
  if (!(sandbox instanceof OciSandbox)) return [];
  const ps = await sandbox.cli(["ps", "-a", "--filter", `label=${SESSION_LABEL}`, "--format", "{{.Names}}"], {
    timeoutMs: 60_000,
  });
  if (ps.code !== 0) {
    log.warn({ err: ps.stderr.toString().trim() }, "listing containers for orphan removal failed");
    return [];
  }
  const dead: string[] = [];
  for (const line of ps.stdout.toString().split("\n")) {
    // Names are `sweu-<session>-<rand>` (oci.ts), the session being `<pid>-<rand>`; label templates differ
    // between docker and podman, names do not.
    const m = /^sweu-(\d+)-[0-9a-f]+-[0-9a-f]+$/.exec(line.trim());
    if (m && !pidAlive(Number(m[1]))) dead.push(line.trim());
  }
  await Promise.all(dead.map((n) => sandbox.forget(n)));
  if (dead.length) log.info({ containers: dead.length }, "removed containers left by dead processes");
  return dead;
}
