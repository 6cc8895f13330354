/**
 * Incremental disk per instance over its environment image: for each instance of a run, the bytes of the
 * image layers it does not share with its environment image (from `<engine> image inspect`: RootFS layers
 * and sizes; `history` for the layer sizes).
 *
 *   node bench/disk.bench.ts <run-dir>
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { detectEngine } from "../src/sandbox/index.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { fmt } from "./lib.ts";

const engine = detectEngine();

function inspect(image: string): { layers: string[]; size: number } | undefined {
  const r = spawnSync(engine, ["image", "inspect", "--format", "{{json .RootFS.Layers}}\t{{.Size}}", image], {
    encoding: "utf8",
  });
  if (r.status !== 0) return undefined;
  const [layers, size] = r.stdout.trim().split("\t");
  return { layers: JSON.parse(layers ?? "[]") ?? [], size: Number(size) };
}

/** Sizes of the non-empty history entries, newest first (one per layer). */
function layerSizes(image: string): number[] {
  const r = spawnSync(engine, ["history", "-H=false", "--format", "{{.Size}}", image], { encoding: "utf8" });
  return r.stdout
    .trim()
    .split("\n")
    .map(Number)
    .filter((n) => Number.isFinite(n) && n > 0);
}

export function diskReport(
  runDir: string,
): { id: string; image: number; env: number; incremental: number }[] {
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const rows = [];
  try {
    for (const inst of store.listInstances()) {
      const env = store.getEnvironment(inst.environment_key);
      const mine = inspect(inst.image);
      const base = env ? inspect(env.image) : undefined;
      if (!mine) continue;
      const shared = base ? mine.layers.filter((l) => base.layers.includes(l)).length : 0;
      const own = mine.layers.length - shared;
      const sizes = layerSizes(inst.image);
      // History lists newest first; the instance's own layers are the newest `own` ones.
      const incremental = own === 0 ? 0 : sizes.slice(0, own).reduce((a, b) => a + b, 0);
      rows.push({ id: inst.instance_id, image: mine.size, env: base?.size ?? 0, incremental });
    }
  } finally {
    store.close();
  }
  return rows;
}

export function printDisk(runDir: string): void {
  const rows = diskReport(runDir);
  const mb = (n: number) => fmt(n / 1e6, 1);
  console.log(`incremental disk per instance over its environment image (${engine})`);
  for (const r of rows)
    console.log(
      `  ${r.id}: image ${mb(r.image)} MB, environment ${mb(r.env)} MB, own layers ${fmt(r.incremental / 1e3, 1)} kB`,
    );
  if (rows.length) {
    const avg = rows.reduce((a, r) => a + r.incremental, 0) / rows.length;
    const full = rows.reduce((a, r) => a + r.image, 0) / rows.length;
    console.log(
      `  mean own layers ${fmt(avg / 1e3, 1)} kB per instance (${fmt((100 * avg) / full, 1)}% of a full image)`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error("usage: node bench/disk.bench.ts <run-dir>");
    process.exit(2);
  }
  printDisk(dir);
}
