/**
 * Pushing validated images to a registry (`--registry HOST/PREFIX`): tag, then push, with retries. A refused
 * push is a clear error in the result, never a lost instance: the image stays valid locally, the run records
 * it as not pushed (store meta `push:<instance id>`), and `swe-universe push` tries again later.
 */

import { insecureRegistry } from "../sandbox/registry-host.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";

export interface PushResult {
  ref: string;
  ok: boolean;
  error?: string;
  /** Attempts made (1 when the first push went through). */
  attempts?: number;
}

export interface PushOptions {
  /** Tries before giving up (default 3), waiting backoffMs, 2×backoffMs, … in between. */
  attempts?: number;
  backoffMs?: number;
  onRetry?: (attempt: number, error: string) => void;
}

/** `localhost/sweu.eval.x:latest` → `HOST/PREFIX/sweu.eval.x:latest`. */
export function registryRef(image: string, registry: string): string {
  const last = image.split("/").pop() ?? image;
  const tagged = last.includes(":") ? last : `${last}:latest`;
  return `${registry.replace(/\/+$/, "")}/${tagged}`;
}

export { insecureRegistry };

export async function pushImage(
  sandbox: Sandbox,
  image: string,
  registry: string,
  o: PushOptions = {},
): Promise<PushResult> {
  const ref = registryRef(image, registry);
  const tries = Math.max(1, o.attempts ?? 3);
  let last = "";
  for (let attempt = 1; attempt <= tries; attempt++) {
    const r = await sandbox.push(image, ref);
    if (r.ok) return { ref, ok: true, attempts: attempt };
    last = r.error ?? "refused";
    if (attempt < tries) {
      o.onRetry?.(attempt, last);
      await new Promise((res) => setTimeout(res, (o.backoffMs ?? 2000) * 2 ** (attempt - 1)));
    }
  }
  return {
    ref,
    ok: false,
    attempts: tries,
    error: `push of ${image} to ${ref} refused after ${tries} attempt(s): ${last}`.slice(0, 4000),
  };
}

const pushKey = (id: string) => `push:${id}`;

/** Record how a push ended; a pushed instance names its registry reference from then on (`image_name`). */
export function recordPush(store: Store, id: string, r: PushResult): void {
  store.setMeta(pushKey(id), JSON.stringify(r));
  const inst = r.ok ? store.getInstance(id) : undefined;
  if (inst && inst.image_name !== r.ref) store.putInstance({ ...inst, image_name: r.ref });
}

export function pushRecord(store: Store, id: string): PushResult | undefined {
  const raw = store.getMeta(pushKey(id));
  return raw ? (JSON.parse(raw) as PushResult) : undefined;
}

export interface PushSummary {
  pushed: string[];
  refused: { id: string; error: string }[];
  /** Already pushed to this registry earlier (skipped unless `all`). */
  already: number;
}

/** Push the images of a run's instances that are not in `registry` yet (every one with `all`). */
export async function pushPending(
  store: Store,
  sandbox: Sandbox,
  registry: string,
  o: PushOptions & { all?: boolean; onPushed?: (id: string, r: PushResult) => void } = {},
): Promise<PushSummary> {
  const s: PushSummary = { pushed: [], refused: [], already: 0 };
  for (const inst of store.listInstances()) {
    const prev = pushRecord(store, inst.instance_id);
    if (!o.all && prev?.ok && prev.ref === registryRef(inst.image, registry)) {
      s.already++;
      continue;
    }
    const r = await pushImage(sandbox, inst.image, registry, o);
    recordPush(store, inst.instance_id, r);
    o.onPushed?.(inst.instance_id, r);
    if (r.ok) s.pushed.push(inst.instance_id);
    else s.refused.push({ id: inst.instance_id, error: r.error ?? "refused" });
  }
  return s;
}
