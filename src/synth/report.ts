/**
 * The synth report: per repository and strategy, candidates tried and valid synthetic tasks, the yield,
 * why the rest fell, CPU-minutes per valid task (every candidate's containers plus the environments'
 * baselines) and the median size of the valid bugs. Written as synth.json and synth.md in the run folder.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SyntheticCandidate } from "../records/index.ts";
import type { Store } from "../store/store.ts";
import { baselineMeta } from "./synth.ts";

export interface StrategyRow {
  repo: string;
  strategy: string;
  tried: number;
  valid: number;
  yield: number | null;
  rejections: Record<string, number>;
  cpu_ms: number;
  /** Wall time of its candidates, from the first container to the verdict. */
  wall_ms: number;
  median_changed_lines: number | null;
}

export interface SynthReport {
  rows: StrategyRow[];
  totals: {
    repo: string;
    /** The environments' language (their source instances'). */
    language: string;
    tried: number;
    valid: number;
    yield: number | null;
    /** Candidates' CPU plus the environments' baselines. */
    cpu_ms: number;
    baseline_cpu_ms: number;
    cpu_minutes_per_valid: number | null;
    /** Mean wall seconds per candidate tried (the baselines apart). */
    wall_seconds_per_tried: number | null;
    median_changed_lines: number | null;
    /** false when some container's CPU time could not be read (its wall time was counted). */
    cpu_measured: boolean;
  }[];
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ratio = (n: number, d: number) => (d ? Math.round((n / d) * 1000) / 1000 : null);

function row(repo: string, strategy: string, cs: SyntheticCandidate[]): StrategyRow {
  const valid = cs.filter((c) => c.outcome === "instance");
  const rejections: Record<string, number> = {};
  for (const c of cs) if (c.reason) rejections[c.reason] = (rejections[c.reason] ?? 0) + 1;
  return {
    repo,
    strategy,
    tried: cs.length,
    valid: valid.length,
    yield: ratio(valid.length, cs.length),
    rejections,
    cpu_ms: cs.reduce((n, c) => n + c.cpu_ms, 0),
    wall_ms: cs.reduce((n, c) => n + c.wall_ms, 0),
    median_changed_lines: median(valid.map((c) => c.changed_lines)),
  };
}

export function synthReport(store: Store): SynthReport {
  const all = store.listSynthetic();
  const repos = [...new Set(all.map((c) => c.repo))].sort();
  const rows: StrategyRow[] = [];
  const totals: SynthReport["totals"] = [];
  for (const repo of repos) {
    const cs = all.filter((c) => c.repo === repo);
    for (const s of [...new Set(cs.map((c) => c.strategy))].sort())
      rows.push(
        row(
          repo,
          s,
          cs.filter((c) => c.strategy === s),
        ),
      );
    let baseline = 0;
    let measured = cs.every((c) => c.cpu_measured);
    for (const src of new Set(cs.map((c) => c.source_instance))) {
      const meta = store.getMeta(baselineMeta(src)) ?? store.getMeta(`synth:baseline-failed:${src}`);
      const cost = meta
        ? (JSON.parse(meta) as { cost?: { cpu_ms: number; measured: boolean } }).cost
        : undefined;
      baseline += cost?.cpu_ms ?? 0;
      if (cost && !cost.measured) measured = false;
    }
    const r = row(repo, "all", cs);
    const cpu = r.cpu_ms + baseline;
    const languages = new Set(
      [...new Set(cs.map((c) => c.source_instance))].map((id) => store.getInstance(id)?.language ?? "?"),
    );
    totals.push({
      repo,
      language: [...languages].sort().join(", "),
      tried: r.tried,
      valid: r.valid,
      yield: r.yield,
      cpu_ms: cpu,
      baseline_cpu_ms: baseline,
      cpu_minutes_per_valid: r.valid ? Math.round((cpu / 60_000 / r.valid) * 100) / 100 : null,
      wall_seconds_per_tried: r.tried ? Math.round(r.wall_ms / 100 / r.tried) / 10 : null,
      median_changed_lines: r.median_changed_lines,
      cpu_measured: measured,
    });
  }
  return { rows, totals };
}

const pct = (x: number | null) => (x === null ? "n/a" : `${Math.round(x * 100)}%`);

export function renderSynthReport(r: SynthReport): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  const reasons = (x: Record<string, number>) =>
    Object.entries(x)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") || "—";
  return [
    "# Synthetic tasks",
    "",
    line([
      "repository",
      "strategy",
      "tried",
      "valid",
      "yield",
      "median changed lines",
      "CPU min",
      "wall s per bug",
      "rejections",
    ]),
    line(["---", "---", "---", "---", "---", "---", "---", "---", "---"]),
    ...r.rows.map((x) =>
      line([
        x.repo,
        x.strategy,
        x.tried,
        x.valid,
        pct(x.yield),
        x.median_changed_lines ?? "n/a",
        (x.cpu_ms / 60_000).toFixed(1),
        x.tried ? (x.wall_ms / 1000 / x.tried).toFixed(0) : "n/a",
        reasons(x.rejections),
      ]),
    ),
    "",
    line([
      "repository",
      "language",
      "tried",
      "valid",
      "yield",
      "CPU-minutes per valid task",
      "wall s per bug tried",
      "median changed lines",
      "baseline CPU min",
    ]),
    line(["---", "---", "---", "---", "---", "---", "---", "---", "---"]),
    ...r.totals.map((t) =>
      line([
        t.repo,
        t.language,
        t.tried,
        t.valid,
        pct(t.yield),
        `${t.cpu_minutes_per_valid ?? "n/a"}${t.cpu_measured ? "" : " (wall time where CPU was not readable)"}`,
        t.wall_seconds_per_tried ?? "n/a",
        t.median_changed_lines ?? "n/a",
        (t.baseline_cpu_ms / 60_000).toFixed(1),
      ]),
    ),
    "",
  ].join("\n");
}

export function writeSynthReport(store: Store, runDir: string): SynthReport {
  const r = synthReport(store);
  writeFileSync(join(runDir, "synth.json"), `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(runDir, "synth.md"), renderSynthReport(r));
  return r;
}
