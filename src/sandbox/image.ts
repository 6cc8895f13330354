/**
 * An instance's image where a verb needs it: the local tag when it is here, else pulled from the
 * instance's `image_name` (the registry reference it was pushed to). Every verb that runs an instance's
 * image (evaluate, validate, check-verifier, serve) goes through here, so all of them pull the same way.
 */
import type { Sandbox } from "./sandbox.ts";

export type ImageAvailability = { ok: true; image: string; pulled: boolean } | { ok: false; error: string };

/** A reference some registry can serve (not a `localhost/` tag, which only ever names a local image). */
export function pullable(ref: string): boolean {
  const first = ref.split("/")[0] ?? "";
  return ref.includes("/") && first !== "localhost" && (first.includes(".") || first.includes(":"));
}

export async function ensureImage(
  sandbox: Sandbox,
  inst: { image: string; image_name?: string },
  o: { timeoutMs?: number } = {},
): Promise<ImageAvailability> {
  const refs = [...new Set([inst.image, inst.image_name].filter((r): r is string => !!r))];
  for (const ref of refs) if (await sandbox.imageExists(ref)) return { ok: true, image: ref, pulled: false };
  const remote = refs.filter(pullable);
  if (!remote.length)
    return {
      ok: false,
      error:
        `image not found: ${inst.image} is not on this machine and the instance names no registry to pull ` +
        "it from (push with --registry before exporting, or build it from the instance's Dockerfile)",
    };
  const errors: string[] = [];
  for (const ref of remote) {
    const r = await sandbox.pull(ref, o);
    if (r.ok) return { ok: true, image: ref, pulled: true };
    errors.push(`${ref}: ${r.error ?? "refused"}`);
  }
  return {
    ok: false,
    error: `image not found: ${inst.image} is not here and cannot be pulled (${errors.join("; ")})`,
  };
}
