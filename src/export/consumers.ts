/**
 * Exports for people who run instances without us: a portable rebuild context per instance folder
 * (`export --with-context`) and Harbor task folders (`export --harbor DIR`).
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Instance } from "../records/index.ts";
import type { Store } from "../store/store.ts";
import { inside, safeFileName } from "../util/safe-name.ts";
import { writeHarborTask } from "./harbor.ts";
import { writePortableContext } from "./portable.ts";

/** Where the run keeps the repository's clone and the task's resolved commit, when both are at hand. */
export function sourceOf(
  store: Store,
  inst: Instance,
): { gitDir: string; resolvedCommit: string } | undefined {
  const gitDir = store.getMeta(`git_dir:${inst.repo}`);
  const task = store.getTask(inst.instance_id);
  if (!gitDir || !existsSync(gitDir) || !task) return undefined;
  return { gitDir, resolvedCommit: task.resolved_commit };
}

function rebuildScript(inst: Instance): string {
  // Site CAs are the rebuilding machine's own (a TLS-inspecting proxy there): staged where the Dockerfile copies them from.
  const certs = /^COPY (\S+)\/ \/usr\/local\/share\/ca-certificates\//m.exec(inst.dockerfile)?.[1];
  return [
    "#!/bin/bash",
    `# Rebuild the image of ${inst.instance_id} from this folder alone: ENGINE=podman ./rebuild.sh [TAG]`,
    "set -euo pipefail",
    'cd "$(dirname "$0")"',
    `tag="\${1:-${inst.image}}"`,
    'engine="${ENGINE:-docker}"',
    ...(certs
      ? [
          `mkdir -p ${certs}`,
          `for f in "\${SWEU_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}"/*.crt; do [ -f "$f" ] && cp "$f" ${certs}/; done`,
        ]
      : []),
    'extra=(); [ "$engine" = podman ] && extra=(--format docker)',
    '"$engine" build "${extra[@]}" -t "$tag" .',
    "",
  ].join("\n");
}

export interface ConsumerExportSummary {
  written: number;
  /** Instances whose folder cannot rebuild the image alone, and why. */
  needs: { id: string; needs: string[] }[];
  /** Instances with no clone at hand to bundle from. */
  skipped: string[];
}

/** instances/<id>/rebuild/: Dockerfile, testbed.bundle, deps-overlay/, rebuild.sh (and NEEDS.md). */
export async function exportRebuildContexts(store: Store, outDir: string): Promise<ConsumerExportSummary> {
  const s: ConsumerExportSummary = { written: 0, needs: [], skipped: [] };
  for (const inst of store.listInstances()) {
    const src = sourceOf(store, inst);
    if (!src) {
      s.skipped.push(inst.instance_id);
      continue;
    }
    const dir = inside(outDir, "instances", safeFileName(inst.instance_id), "rebuild");
    const ctx = await writePortableContext(dir, inst, src);
    writeFileSync(join(dir, "rebuild.sh"), rebuildScript(inst), { mode: 0o755 });
    s.written++;
    if (ctx.needs.length) s.needs.push({ id: inst.instance_id, needs: ctx.needs });
  }
  return s;
}

/** One Harbor task folder per instance under `harborDir`. */
export async function exportHarbor(store: Store, harborDir: string): Promise<ConsumerExportSummary> {
  const s: ConsumerExportSummary = { written: 0, needs: [], skipped: [] };
  for (const inst of store.listInstances()) {
    const r = await writeHarborTask(harborDir, inst, { source: sourceOf(store, inst) });
    s.written++;
    if (r.needs.length) s.needs.push({ id: inst.instance_id, needs: r.needs });
  }
  return s;
}
