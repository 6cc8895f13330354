/**
 * report.html: the funnel across repositories as one self-contained page with plots (Chart.js, inlined,
 * so it opens offline and from a CI artifact): the funnel itself, yield by language and by repository,
 * distributions of wall time per instance and of image sizes, rejection reasons; then the tables of
 * funnel.md. Data goes in as JSON; nothing is fetched.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { UniverseReport } from "./universe-report.ts";

let chartJs: string | undefined;
/** Chart.js's own UMD build, from its npm package. */
function chartLibrary(): string {
  chartJs ??= readFileSync(
    join(dirname(createRequire(import.meta.url).resolve("chart.js")), "chart.umd.min.js"),
    "utf8",
  );
  return chartJs;
}

/** Bins of a histogram: `n` equal ranges over the values (labels are the ranges). */
export function histogram(values: readonly number[], n = 12): { labels: string[]; counts: number[] } {
  if (!values.length) return { labels: [], counts: [] };
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const width = hi > lo ? (hi - lo) / n : 1;
  const bins = hi > lo ? n : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]!++;
  const f = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1));
  const labels = counts.map((_, i) => `${f(lo + i * width)}–${f(lo + (i + 1) * width)}`);
  return { labels, counts };
}

const esc = (s: unknown) =>
  String(s ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);

function table(head: string[], rows: unknown[][]): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** What the page's script draws, one entry per canvas. */
export function chartData(r: UniverseReport) {
  const repos = r.repositories.filter((x) => x.built > 0).slice(0, 40);
  const wall = histogram(r.distributions.wall_s);
  const size = histogram(r.distributions.image_mb);
  const reasons = [...r.rejections].sort((a, b) => b.count - a.count).slice(0, 20);
  return {
    funnel: {
      labels: ["candidates", "tasks", "built", "instances"],
      values: [r.candidates, r.tasks, r.built, r.instances],
    },
    language: {
      labels: r.by_language.map((l) => l.language),
      instances: r.by_language.map((l) => l.instances),
      failed: r.by_language.map((l) => l.built - l.instances),
      yield: r.by_language.map((l) => (l.yield === null ? null : Math.round(l.yield * 1000) / 10)),
    },
    repository: {
      labels: repos.map((x) => x.repo),
      instances: repos.map((x) => x.instances),
      failed: repos.map((x) => x.built - x.instances),
    },
    wall: { labels: wall.labels, counts: wall.counts },
    size: { labels: size.labels, counts: size.counts },
    reasons: { labels: reasons.map((x) => `${x.stage}: ${x.reason}`), counts: reasons.map((x) => x.count) },
  };
}

const SCRIPT = `
const D = JSON.parse(document.getElementById("data").textContent);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
// A plot with nothing to show says so instead of an empty frame.
Chart.register({ id: "empty", afterDraw(c) {
  if (c.data.labels.length) return;
  const { ctx, chartArea: a } = c;
  ctx.save(); ctx.fillStyle = "#78909c"; ctx.font = "14px system-ui, sans-serif"; ctx.textAlign = "center";
  ctx.fillText("nothing to show yet", (a.left + a.right) / 2, (a.top + a.bottom) / 2); ctx.restore();
} });
const bar = (id, labels, datasets, o = {}) => new Chart(document.getElementById(id), {
  type: "bar",
  data: { labels, datasets },
  options: { indexAxis: o.horizontal ? "y" : "x", plugins: { legend: { display: datasets.length > 1 } },
    scales: { x: { stacked: !!o.stacked, title: { display: !!o.x, text: o.x || "" } },
              y: { stacked: !!o.stacked, beginAtZero: true, title: { display: !!o.y, text: o.y || "" } } } },
});
const green = "#2e7d32", red = "#c62828", blue = "#1565c0", grey = "#78909c";
bar("funnel", D.funnel.labels, [{ label: "count", data: D.funnel.values, backgroundColor: [grey, blue, "#6a1b9a", green] }], { horizontal: true });
bar("language", D.language.labels, [
  { label: "instances", data: D.language.instances, backgroundColor: green },
  { label: "built, rejected", data: D.language.failed, backgroundColor: red }], { stacked: true, y: "tasks built" });
bar("repository", D.repository.labels, [
  { label: "instances", data: D.repository.instances, backgroundColor: green },
  { label: "built, rejected", data: D.repository.failed, backgroundColor: red }], { stacked: true, horizontal: true, x: "tasks built" });
bar("wall", D.wall.labels, [{ label: "instances", data: D.wall.counts, backgroundColor: blue }], { x: "wall time per instance (s)", y: "instances" });
bar("size", D.size.labels, [{ label: "images", data: D.size.counts, backgroundColor: grey }], { x: "image size (MB)", y: "images" });
bar("reasons", D.reasons.labels, [{ label: "rejections", data: D.reasons.counts, backgroundColor: red }], { horizontal: true });
document.body.dataset.rendered = "yes";
`;

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 18px; }
.plot { position: relative; height: 300px; border: 1px solid #ddd; border-radius: 6px; padding: 8px; }
.plot.tall { height: 460px; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f4f4f4; } .kpi { display: flex; gap: 24px; flex-wrap: wrap; } .kpi div { font-size: 13px; }
.kpi b { display: block; font-size: 22px; }
`;

export function renderReportHtml(r: UniverseReport, title = "swe-universe run"): string {
  const data = JSON.stringify(chartData(r)).replaceAll("<", "\\u003c");
  const kpi = [
    ["repositories", r.repositories.length],
    ["candidates", r.candidates],
    ["tasks", r.tasks],
    ["built", r.built],
    ["instances", r.instances],
    ["yield", pct(r.built ? Math.round((r.instances / r.built) * 10000) / 10000 : null)],
    [
      "median wall / instance",
      r.wall_ms.median === null ? "n/a" : `${(r.wall_ms.median / 1000).toFixed(1)} s`,
    ],
  ];
  const plots = [
    ["funnel", "Funnel", ""],
    ["language", "Yield by language", ""],
    ["repository", "Yield by repository", "tall"],
    ["reasons", "Rejection reasons", "tall"],
    ["wall", "Wall time per instance", ""],
    ["size", "Image sizes", ""],
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<div class="kpi">${kpi.map(([k, v]) => `<div><b>${esc(v)}</b>${esc(k)}</div>`).join("")}</div>
<div class="grid">
${plots.map(([id, h, cls]) => `<section><h2>${h}</h2><div class="plot ${cls}"><canvas id="${id}"></canvas></div></section>`).join("\n")}
</div>
<h2>Repositories</h2>
${table(
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
    "wall (s)",
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
    x.wall_s,
  ]),
)}
<h2>Languages</h2>
${table(
  ["language", "tasks", "built", "instances", "yield"],
  r.by_language.map((l) => [l.language, l.tasks, l.built, l.instances, pct(l.yield)]),
)}
<h2>Rejections</h2>
${table(
  ["stage", "reason", "count"],
  r.rejections.map((x) => [x.stage, x.reason, x.count]),
)}
<h2>Inputs</h2>
${
  r.inputs.notes.length
    ? table(
        ["where", "input", "what", "detail"],
        r.inputs.notes.map((n) => [n.from, n.input, n.kind, n.detail]),
      )
    : "<p>Nothing to say about them.</p>"
}
<h2>Infrastructure</h2>
${
  r.infrastructure.length
    ? table(
        ["failure", "times", "where", "last"],
        r.infrastructure.map((i) => [i.kind, i.count, i.where.join(", "), i.last]),
      )
    : "<p>No failures of the infrastructure.</p>"
}
<script>${chartLibrary()}</script>
<script type="application/json" id="data">${data}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
