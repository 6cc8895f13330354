/**
 * The funnel across repositories of a universe run (or of merged run folders): the whole run's funnel,
 * yield per repository and per language, the distributions of wall time per instance and of image sizes,
 * rejection reasons, and what happened to the inputs and the infrastructure. Written as funnel.json,
 * funnel.md and report.html (src/export/report-html.ts) next to the dataset.
 */
import type { InfraCount, InputNote, Instance, RepoState } from "../records/index.ts";
import type { RepoCounts, Store } from "../store/store.ts";
import { readInfra, readNotes, readRepos } from "../store/universe.ts";
import { computeFunnel, type FunnelReport, renderFunnelMarkdown } from "./funnel.ts";

export interface RepoRow {
  repo: string;
  language: string | null;
  status: string;
  detail?: string;
  candidates: number;
  tasks: number;
  /** Tasks built and validated (instances + build/validate rejections). */
  built: number;
  instances: number;
  /** Synthetic instances of its environments (not in built, instances or yield). */
  synthetic: number;
  /** instances / built; null when none was built. */
  yield: number | null;
  pending: number;
  stopped?: string;
  wall_s: number;
}

export interface UniverseReport extends FunnelReport {
  built: number;
  repositories: RepoRow[];
  by_language: { language: string; tasks: number; built: number; instances: number; yield: number | null }[];
  inputs: { listed: number; notes: InputNote[]; by_kind: Record<string, number> };
  infrastructure: InfraCount[];
  /** Raw values for the distributions: wall seconds per instance, megabytes per distinct image. */
  distributions: { wall_s: number[]; image_mb: number[] };
}

const ratio = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10000) / 10000 : null);

function repoRow(c: RepoCounts, s: RepoState | undefined, wallByRepo: Map<string, number>): RepoRow {
  const built = c.instances + c.failed;
  return {
    repo: c.repo,
    language: c.language,
    status: s?.status ?? (c.pending ? "mined" : "done"),
    ...(s?.detail ? { detail: s.detail } : {}),
    candidates: c.candidates,
    tasks: c.tasks,
    built,
    instances: c.instances,
    synthetic: c.synthetic,
    yield: ratio(c.instances, built),
    pending: c.pending,
    ...(s?.stopped ? { stopped: s.stopped } : {}),
    wall_s: Math.round((s?.spent_ms ?? wallByRepo.get(c.repo) ?? 0) / 100) / 10,
  };
}

export function computeUniverseReport(
  store: Store,
  instances: readonly Instance[] = store.listInstances(),
): UniverseReport {
  const base = computeFunnel(store, instances);
  const states = new Map(readRepos(store).map((r) => [r.name, r]));
  const wallByRepo = new Map<string, number>();
  for (const i of instances) wallByRepo.set(i.repo, (wallByRepo.get(i.repo) ?? 0) + i.cost.wall_ms);
  const counts = store.repoCounts();
  const rows = counts.map((c) => repoRow(c, states.get(c.repo), wallByRepo));
  // Repositories of the run that never produced a record (unreachable, broken, not mined yet).
  for (const s of states.values())
    if (!counts.some((c) => c.repo === s.name))
      rows.push(
        repoRow(
          {
            repo: s.name,
            candidates: 0,
            tasks: 0,
            pending: 0,
            instances: 0,
            synthetic: 0,
            failed: 0,
            mined_out: 0,
            language: null,
          },
          s,
          wallByRepo,
        ),
      );
  const notes = readNotes(store);
  const byKind: Record<string, number> = {};
  for (const n of notes) byKind[n.kind] = (byKind[n.kind] ?? 0) + 1;
  // The distributions are of the PRs' instances, as the headline is (synth.md reports the synthetic ones).
  const prs = instances.filter((i) => i.source !== "synthetic");
  const sizes = new Map<string, number>();
  const envs = new Map(store.listEnvironments().map((e) => [e.key, e]));
  for (const i of prs) {
    const b = envs.get(i.environment_key)?.image_size_bytes;
    if (b !== undefined) sizes.set(envs.get(i.environment_key)!.image, b);
  }
  return {
    ...base,
    built: rows.reduce((a, r) => a + r.built, 0),
    repositories: rows.sort((a, b) => b.built - a.built || a.repo.localeCompare(b.repo)),
    by_language: store.languageCounts().map((l) => ({
      language: l.repo,
      tasks: l.tasks,
      built: l.instances + l.failed,
      instances: l.instances,
      yield: ratio(l.instances, l.instances + l.failed),
    })),
    inputs: { listed: states.size, notes, by_kind: byKind },
    infrastructure: readInfra(store),
    distributions: {
      wall_s: prs.map((i) => Math.round(i.cost.wall_ms / 100) / 10).filter((w) => w > 0),
      image_mb: [...sizes.values()].map((b) => Math.round(b / 1e5) / 10),
    },
  };
}

const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
const cell = (s: string | number | null | undefined) =>
  String(s ?? "")
    .replaceAll("|", "\\|")
    .replaceAll("\n", " ");
function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const line = (cells: (string | number | null | undefined)[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** funnel.md of a run across repositories: the run's funnel, then per repository, language, input, failure. */
export function renderUniverseMarkdown(r: UniverseReport): string {
  const parts = [renderFunnelMarkdown(r).trimEnd(), "", `Tasks built and validated: ${r.built}.`, ""];
  parts.push("## Repositories", "");
  parts.push(
    table(
      [
        "repository",
        "language",
        "status",
        "candidates",
        "tasks",
        "built",
        "instances",
        "yield",
        "synthetic",
        "pending",
        "wall",
      ],
      r.repositories.map((x) => [
        x.repo,
        x.language,
        x.stopped ? `${x.status} (budget: ${x.stopped})` : x.detail ? `${x.status}: ${x.detail}` : x.status,
        x.candidates,
        x.tasks,
        x.built,
        x.instances,
        pct(x.yield),
        x.synthetic,
        x.pending,
        `${x.wall_s} s`,
      ]),
    ),
  );
  parts.push("", "## Yield by language (instances / tasks built)", "");
  parts.push(
    table(
      ["language", "tasks", "built", "instances", "yield"],
      r.by_language.map((l) => [l.language, l.tasks, l.built, l.instances, pct(l.yield)]),
    ),
  );
  parts.push("", "## Inputs", "", `Repositories in the run: ${r.inputs.listed}.`, "");
  parts.push(
    r.inputs.notes.length
      ? table(
          ["where", "input", "what", "detail"],
          r.inputs.notes.map((n) => [n.from, n.input, n.kind, n.detail]),
        )
      : "Nothing to say about them.",
  );
  parts.push("", "## Infrastructure", "");
  parts.push(
    r.infrastructure.length
      ? table(
          ["failure", "times", "where", "last"],
          r.infrastructure.map((i) => [i.kind, i.count, i.where.join(", "), i.last]),
        )
      : "No failures of the infrastructure.",
  );
  return `${parts.join("\n")}\n`;
}
