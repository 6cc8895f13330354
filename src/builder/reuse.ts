import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run } from "../util/exec.ts";
import { settleStep } from "./dockerfile.ts";
import { isDependencyFile, isOverlayFile } from "./manifests.ts";
import type { RepoView } from "./view.ts";

/**
 * Environment reuse. An *environment image* holds the toolchain and the dependencies one set of manifests
 * asks for; each task gets a thin *instance layer* on top: its own base commit swapped into /testbed and a
 * cheap refresh (e.g. `pip install --no-deps -e .`). PRs of a repository whose dependency manifests match
 * share one environment (same key); the nearest earlier environment of the same plan is tried before a
 * full build when none matches.
 */

export { isDependencyFile } from "./manifests.ts";

/**
 * The environment key: the full Dockerfile (base, toolchain, install steps) plus every dependency file's
 * content at the commit. Equal keys mean one image can serve both commits.
 */
export function environmentKeyFor(
  dockerfile: string,
  view: RepoView,
  overlay: Record<string, string> = {},
): string {
  const h = createHash("sha256").update(dockerfile);
  for (const f of view.files.filter(isDependencyFile).sort()) h.update(`\0${f}\0${view.read(f) ?? "?"}`);
  for (const f of Object.keys(overlay).sort()) h.update(`\0overlay:${f}\0${overlay[f]}`);
  return h.digest("hex").slice(0, 16);
}

export function environmentTag(repo: string, key: string): string {
  return `localhost/sweu.env.${repo
    .toLowerCase()
    .replace("/", "__")
    .replace(/[^a-z0-9._-]/g, "_")}:${key}`;
}

/**
 * The thin instance layer: remove the files the environment's commit tracked (install artefacts, which
 * git does not track, stay), copy the task's sanitised checkout in, and refresh.
 */
export function instanceDockerfile(fromImage: string, refresh: readonly string[]): string {
  return [
    `FROM ${fromImage}`,
    "COPY testbed /tmp/sweu-testbed",
    "RUN cd /testbed && git ls-files -z | xargs -0 -r rm -f && rm -rf .git && cp -a /tmp/sweu-testbed/. /testbed/ && rm -rf /tmp/sweu-testbed",
    "WORKDIR /testbed",
    ...refresh.map((s) => `RUN ${s}`),
    // The swapped-in .git has no exclude list or index flags yet: settle the new tree as a full build does.
    settleStep(),
    "",
  ].join("\n");
}

/** One build per environment key at a time in this process; others wait and then reuse it. */
const building = new Map<string, Promise<unknown>>();
export async function once<T>(key: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const running = building.get(key);
    if (!running) break;
    await running.catch(() => {});
  }
  const p = fn();
  building.set(key, p);
  try {
    return await p;
  } finally {
    building.delete(key);
  }
}

/**
 * Dependency files the gold patch adds or changes, with their content at the resolved commit. The
 * environment installs from these so the resolved state has what it imports; /testbed keeps the base.
 */
export async function dependencyOverlay(
  gitDir: string,
  resolvedCommit: string,
  patch: string,
  view: RepoView,
): Promise<{ files: Record<string, string>; modified: string[]; added: string[] }> {
  const changed = [...patch.matchAll(/^\+\+\+ b\/(.+)$/gm)].map((m) => m[1]!).filter(isOverlayFile);
  const files: Record<string, string> = {};
  for (const f of changed) {
    const r = await run("git", ["-C", gitDir, "show", `${resolvedCommit}:${f}`], {
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.exitCode === 0) files[f] = r.stdout;
  }
  const names = Object.keys(files);
  return { files, modified: names.filter((f) => view.has(f)), added: names.filter((f) => !view.has(f)) };
}

/** The overlay's folder in a build context (`COPY deps-overlay/ /testbed/`). */
export const OVERLAY_DIR = "deps-overlay";

/**
 * Write the dependency overlay into a build context, as the builder stages it and as a rebuild or a
 * portable context must stage it again; returns the overlay and the context paths written.
 */
export async function stageDependencyOverlay(
  gitDir: string,
  x: { resolvedCommit: string; patch: string; view: RepoView },
  contextDir: string,
): Promise<{ overlay: Awaited<ReturnType<typeof dependencyOverlay>>; written: string[] }> {
  const overlay = await dependencyOverlay(gitDir, x.resolvedCommit, x.patch, x.view);
  const written: string[] = [];
  for (const [f, content] of Object.entries(overlay.files)) {
    mkdirSync(dirname(join(contextDir, OVERLAY_DIR, f)), { recursive: true });
    writeFileSync(join(contextDir, OVERLAY_DIR, f), content);
    written.push(join(OVERLAY_DIR, f));
  }
  return { overlay, written };
}
