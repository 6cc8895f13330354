/**
 * Rebuilding an instance's image on another machine from exported files alone (no store, no clone, no
 * images of ours): the instance's Dockerfile made portable plus a build context that holds the repository
 * as a git bundle of the base commit's history, and the dependency files the fix changes.
 *
 * The Dockerfile we record starts FROM our local base image and copies a sanitised checkout; the portable
 * one starts FROM the public Debian image with the base recipe's layers, and unpacks the bundle into a
 * fresh repository exactly as the sanitised checkout is made (history up to the base commit only, no
 * remotes, tags, reflogs). Site CA certificates stay the builder's; a context holds an empty certs folder.
 * What cannot travel (a toolchain image made from the build machine's own files) is named in NEEDS.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoView } from "../builder/repo.ts";
import { stageDependencyOverlay } from "../builder/reuse.ts";
import type { Instance } from "../records/index.ts";
import { baseRecipe } from "../sandbox/base-image.ts";
import { runOk } from "../util/exec.ts";

/** The public root image portable Dockerfiles start from (a mirror via SWEU_BASE_IMAGE, as for builds). */
export function portableRoot(): string {
  return process.env.SWEU_BASE_IMAGE ?? "docker.io/library/debian:bookworm-slim";
}

const BUNDLE = "testbed.bundle";

/** Shell that turns the bundle into /testbed as sanitisedCheckout does (src/builder/repo.ts). */
function unpackSteps(sha: string): string[] {
  const g = "git -C /testbed";
  return [
    `COPY ${BUNDLE} /tmp/sweu-${BUNDLE}`,
    [
      `RUN git init -q -b main /testbed`,
      `${g} fetch -q --no-tags /tmp/sweu-${BUNDLE} ${sha}`,
      `${g} reset -q --hard ${sha}`,
      `${g} config user.email sweu@localhost`,
      `${g} config user.name swe-universe`,
      "rm -f /testbed/.git/FETCH_HEAD /testbed/.git/ORIG_HEAD",
      `${g} reflog expire --expire=now --all`,
      `${g} gc -q --prune=now`,
      `rm -rf /testbed/.git/logs /testbed/.git/hooks /tmp/sweu-${BUNDLE}`,
    ].join(" \\\n    && "),
  ];
}

/** Toolchain images the Dockerfile copies from: made on the build machine, not pullable anywhere. */
export function localImagesOf(dockerfile: string): string[] {
  return [...dockerfile.matchAll(/^COPY --from=(localhost\/\S+)/gm)].map((m) => m[1]!);
}

/** The recorded Dockerfile with a public root and the repository unpacked from a bundle. */
export function portableDockerfile(inst: Pick<Instance, "dockerfile" | "base_commit">): string {
  const lines = inst.dockerfile.replace(/\n$/, "").split("\n");
  const out = [`FROM ${portableRoot()}`, ...baseRecipe().replace(/\n$/, "").split("\n")];
  for (const line of lines.slice(1)) {
    if (line === "COPY testbed /testbed") out.push(...unpackSteps(inst.base_commit));
    else out.push(line);
  }
  return `${out.join("\n")}\n`;
}

/** A bundle of `sha`'s history only (later commits never enter it), made from a clone that has more. */
export async function bundleCommit(gitDir: string, sha: string, dest: string): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), "sweu-bundle-"));
  try {
    await runOk("git", ["init", "-q", "--bare", tmp]);
    await runOk("git", ["-C", tmp, "fetch", "-q", "--no-tags", gitDir, sha]);
    await runOk("git", ["-C", tmp, "update-ref", "refs/heads/main", sha]);
    mkdirSync(dirname(dest), { recursive: true });
    await runOk("git", ["-C", tmp, "bundle", "create", "-q", dest, "main"], { maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface PortableContext {
  /** Files written, relative to the context folder. */
  files: string[];
  /** What the context cannot carry, in words (empty when the folder alone rebuilds the image). */
  needs: string[];
}

/**
 * Write a build context that rebuilds `inst`'s image anywhere: Dockerfile, testbed.bundle, deps-overlay/
 * (the dependency files the fix changes, at the resolved commit) and an empty certs/ when the Dockerfile
 * copies site CAs.
 */
export async function writePortableContext(
  dir: string,
  inst: Instance,
  src: { gitDir: string; resolvedCommit: string },
): Promise<PortableContext> {
  mkdirSync(dir, { recursive: true });
  const files = ["Dockerfile", BUNDLE];
  writeFileSync(join(dir, "Dockerfile"), portableDockerfile(inst));
  await bundleCommit(src.gitDir, inst.base_commit, join(dir, BUNDLE));
  if (/^COPY deps-overlay\/ /m.test(inst.dockerfile)) {
    const view = await repoView(src.gitDir, inst.base_commit);
    const x = { resolvedCommit: src.resolvedCommit, patch: inst.patch, view };
    files.push(...(await stageDependencyOverlay(src.gitDir, x, dir)).written);
  }
  const certs = /^COPY (\S+)\/ \/usr\/local\/share\/ca-certificates\//m.exec(inst.dockerfile)?.[1];
  if (certs) mkdirSync(join(dir, certs), { recursive: true });
  const needs = localImagesOf(inst.dockerfile).map(
    (img) =>
      `the image ${img}: a toolchain image made from the build machine's own files (COPY --from); ` +
      "make it there and push it, or pull the instance's image_name instead of rebuilding",
  );
  if (needs.length)
    writeFileSync(
      join(dir, "NEEDS.md"),
      `# Not in this folder\n\n${needs.map((n) => `- ${n}`).join("\n")}\n`,
    );
  return { files, needs };
}
