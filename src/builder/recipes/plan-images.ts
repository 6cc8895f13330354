import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { acquireLock, defaultCacheDir } from "../../sandbox/base-image.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { run } from "../../util/exec.ts";
import type { BuildPlan, PlanImage } from "./types.ts";

/**
 * Images a plan copies from (`plan.images`, used by `plan.dockerSteps` such as
 * `COPY --from=localhost/sweu-toolchain-rust:1.95.0 /opt/rust /opt/rust`): made once from a host directory
 * and reused while the tag exists. The builder calls `ensurePlanImages` before building a plan's image;
 * a plan whose image cannot be made fails like any other build.
 */
export interface PlanImagesResult {
  ok: boolean;
  log: string;
}

export async function ensurePlanImages(
  sandbox: Sandbox,
  plan: Pick<BuildPlan, "images">,
  timeoutMs = 20 * 60_000,
): Promise<PlanImagesResult> {
  const logs: string[] = [];
  for (const image of plan.images ?? []) {
    const r = await ensurePlanImage(sandbox, image, timeoutMs);
    logs.push(r.log);
    if (!r.ok) return { ok: false, log: logs.join("\n") };
  }
  return { ok: true, log: logs.join("\n") };
}

async function ensurePlanImage(
  sandbox: Sandbox,
  image: PlanImage,
  timeoutMs: number,
): Promise<PlanImagesResult> {
  if (await sandbox.imageExists(image.tag)) return { ok: true, log: `${image.tag}: present` };
  const cache = defaultCacheDir();
  const release = await acquireLock(join(cache, "locks"), `plan-image-${image.tag.replace(/[^\w.-]/g, "_")}`);
  const context = mkdtempSync(join(mkdirP(join(cache, "plan-images")), "ctx-"));
  try {
    if (await sandbox.imageExists(image.tag)) return { ok: true, log: `${image.tag}: present` };
    // Hard links cost nothing on the same filesystem; a plain copy otherwise.
    let cp = await run("cp", ["-al", image.source, join(context, "src")]);
    if (cp.exitCode !== 0) {
      rmSync(join(context, "src"), { recursive: true, force: true });
      cp = await run("cp", ["-a", image.source, join(context, "src")]);
    }
    if (cp.exitCode !== 0)
      return { ok: false, log: `${image.tag}: cannot copy ${image.source}: ${cp.stderr}` };
    for (const x of image.exclude ?? []) rmSync(join(context, "src", x), { recursive: true, force: true });
    const b = await sandbox.build({
      tag: image.tag,
      dockerfile: image.dockerfile,
      contextDir: context,
      timeoutMs,
      network: false,
      labels: { "sweu.plan-image": "1" },
    });
    return { ok: b.ok, log: `${image.tag}: ${b.ok ? "built" : "failed"}\n${b.log.slice(-3000)}` };
  } finally {
    rmSync(context, { recursive: true, force: true });
    release();
  }
}

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
