/**
 * Pushing validated images to a registry (`--registry HOST/PREFIX`): tag, then push. A refused push is a
 * clear error in the result, never a lost instance: the image stays valid locally and is marked not pushed.
 */
import { OciSandbox } from "../sandbox/oci.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

export interface PushResult {
  ref: string;
  ok: boolean;
  error?: string;
}

/** `localhost/sweu.eval.x:latest` → `HOST/PREFIX/sweu.eval.x:latest`. */
export function registryRef(image: string, registry: string): string {
  const last = image.split("/").pop() ?? image;
  const tagged = last.includes(":") ? last : `${last}:latest`;
  return `${registry.replace(/\/+$/, "")}/${tagged}`;
}

export async function pushImage(sandbox: Sandbox, image: string, registry: string): Promise<PushResult> {
  const ref = registryRef(image, registry);
  if (!(sandbox instanceof OciSandbox))
    return { ref, ok: false, error: `the ${sandbox.engine} sandbox cannot push images` };
  try {
    await sandbox.cliOk(["tag", image, ref]);
    // Plain-HTTP registries (a registry:2 on a build network) need SWEU_REGISTRY_INSECURE=1 with podman.
    const insecure = process.env.SWEU_REGISTRY_INSECURE === "1" && sandbox.engine === "podman";
    await sandbox.cliOk(["push", ...(insecure ? ["--tls-verify=false"] : []), ref], { timeoutMs: 1_800_000 });
    return { ref, ok: true };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ref, ok: false, error: `push of ${image} to ${ref} refused: ${msg}`.slice(0, 4000) };
  }
}
