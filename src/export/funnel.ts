/** The funnel report: how many candidates became tasks and instances, and why the rest fell. */
import type { Environment, Instance } from "../records/index.ts";
import type { Store } from "../store/store.ts";
import { formatBytes } from "../util/size.ts";

export interface FunnelReport {
  candidates: number;
  tasks: number;
  /** Tasks without a test change, kept for a builder that writes tests (not counted in tasks). */
  needs_tests: number;
  /** Tasks not built yet; the yield counts only the tasks that were. */
  pending: number;
  instances: number;
  /** Synthetic instances (bugs injected into built environments; src/synth/, synth.md), counted apart. */
  synthetic: number;
  /** instances / tasks; null when there are no tasks. */
  yield: number | null;
  rejected: number;
  rejections_by_stage: { stage: string; count: number }[];
  rejections: { stage: string; reason: string; count: number }[];
  languages: { language: string; tasks: number; instances: number; yield: number | null }[];
  wall_ms: { instances_with_cost: number; median: number | null; total: number };
  images: { distinct: number; with_size: number; median_bytes: number | null; total_bytes: number };
}

function ratio(n: number, d: number): number | null {
  return d > 0 ? Math.round((n / d) * 10000) / 10000 : null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Build the report from the store. `instances` may be passed when the caller already loaded them.
 * Image sizes come from the environments the instances use (one image per environment key).
 */
export function computeFunnel(store: Store, all: readonly Instance[] = store.listInstances()): FunnelReport {
  const f = store.funnel();
  const instances = all.filter((i) => i.source !== "synthetic");
  const byStage = new Map<string, number>();
  for (const r of f.rejections) byStage.set(r.stage, (byStage.get(r.stage) ?? 0) + r.count);

  const walls = instances.map((i) => i.cost.wall_ms).filter((w) => w > 0);

  const envs = new Map<string, Environment>();
  for (const e of store.listEnvironments()) envs.set(e.key, e);
  const sizeByImage = new Map<string, number | undefined>();
  for (const i of instances) {
    const env = envs.get(i.environment_key);
    const known = sizeByImage.get(i.image);
    sizeByImage.set(i.image, known ?? env?.image_size_bytes);
  }
  const sizes = [...sizeByImage.values()].filter((s): s is number => typeof s === "number");

  return {
    candidates: f.candidates,
    tasks: f.tasks,
    needs_tests: f.needs_tests,
    pending: f.pending,
    instances: f.instances,
    synthetic: f.synthetic ?? 0,
    yield: ratio(f.instances, f.tasks - f.pending),
    rejected: f.rejections.reduce((n, r) => n + r.count, 0),
    rejections_by_stage: [...byStage]
      .map(([stage, count]) => ({ stage, count }))
      .sort((a, b) => b.count - a.count || a.stage.localeCompare(b.stage)),
    rejections: f.rejections.map((r) => ({ stage: r.stage, reason: r.reason, count: r.count })),
    languages: f.languages.map((l) => ({
      language: l.language,
      tasks: l.tasks,
      instances: l.instances,
      yield: ratio(l.instances, l.tasks),
    })),
    wall_ms: {
      instances_with_cost: walls.length,
      median: median(walls),
      total: walls.reduce((a, b) => a + b, 0),
    },
    images: {
      distinct: sizeByImage.size,
      with_size: sizes.length,
      median_bytes: median(sizes),
      total_bytes: sizes.reduce((a, b) => a + b, 0),
    },
  };
}

function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

function seconds(ms: number | null): string {
  return ms === null ? "n/a" : `${(ms / 1000).toFixed(1)} s`;
}

function bytes(n: number | null): string {
  return n === null ? "n/a" : formatBytes(n);
}

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The few lines a finished `run` prints: cost per instance and the commonest rejection reasons. */
export function renderFunnelSummary(r: FunnelReport, topReasons = 5): string {
  const lines = [
    `per instance: median wall ${seconds(r.wall_ms.median)}, median image ${bytes(r.images.median_bytes)} ` +
      `(${r.images.distinct} distinct images, ${bytes(r.images.total_bytes)} in all)`,
  ];
  const top = [...r.rejections].sort((a, b) => b.count - a.count).slice(0, topReasons);
  if (top.length)
    lines.push(
      `rejected most for: ${top.map((x) => `${x.stage}:${x.reason} ${x.count}`).join(", ")}` +
        (r.rejections.length > top.length ? ", …" : ""),
    );
  return lines.join("\n");
}

export function renderFunnelMarkdown(r: FunnelReport): string {
  const parts: string[] = ["# Funnel", ""];
  parts.push(
    table(
      ["stage", "count"],
      [
        ["candidates", r.candidates],
        ["tasks", r.tasks],
        ["kept for generated tests", r.needs_tests],
        ["tasks not built yet", r.pending],
        ["instances", r.instances],
        ...(r.synthetic ? [["synthetic instances (synth.md)", r.synthetic] as [string, number]] : []),
        ["rejected", r.rejected],
      ],
    ),
  );
  parts.push("", `Yield (instances / tasks built): ${pct(r.yield)}`, "");
  parts.push("## Rejections by stage", "");
  parts.push(
    r.rejections_by_stage.length
      ? table(
          ["stage", "count"],
          r.rejections_by_stage.map((s) => [s.stage, s.count]),
        )
      : "None.",
  );
  parts.push("", "## Rejections by reason", "");
  parts.push(
    r.rejections.length
      ? table(
          ["stage", "reason", "count"],
          r.rejections.map((s) => [s.stage, s.reason, s.count]),
        )
      : "None.",
  );
  parts.push("", "## Languages", "");
  parts.push(
    r.languages.length
      ? table(
          ["language", "tasks", "instances", "yield"],
          r.languages.map((l) => [l.language, l.tasks, l.instances, pct(l.yield)]),
        )
      : "None.",
  );
  parts.push("", "## Cost", "");
  parts.push(
    `Median wall time per instance: ${seconds(r.wall_ms.median)} ` +
      `(${r.wall_ms.instances_with_cost} instances with a recorded cost, total ${seconds(r.wall_ms.total)}).`,
  );
  parts.push(
    `Images: ${r.images.distinct} distinct, ${r.images.with_size} with a known size, ` +
      `median ${bytes(r.images.median_bytes)}, total ${bytes(r.images.total_bytes)}.`,
  );
  return `${parts.join("\n")}\n`;
}
