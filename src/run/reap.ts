/** Leftovers of killed processes: the sandbox knows its own (Sandbox.reapOrphans). */
import type { Sandbox } from "../sandbox/sandbox.ts";

export { pidAlive } from "../util/pid.ts";

/** Remove containers left by dead sessions; returns their names. */
export function reapOrphans(sandbox: Sandbox): Promise<string[]> {
  return sandbox.reapOrphans();
}
