/**
 * FAIL_TO_PASS / PASS_TO_PASS sizes per instance of a finished run, as graded now (three states) and as the
 * two-state grading made them before (FAIL_TO_PASS = failed or absent with the test patch, passing with the
 * fix: Multi-SWE-bench's f2p + n2p; PASS_TO_PASS = p2p), from the categories each instance records; with
 * how the base state was learnt and what it cost, and the run's rejections.
 *
 *   node bench/lists.bench.ts <run-dir> [--markdown]
 */
import { join } from "node:path";
import { SqliteStore } from "../src/store/sqlite.ts";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node bench/lists.bench.ts <run-dir>");
  process.exit(2);
}
const store = new SqliteStore(join(dir, "store.sqlite"));
const rows = store.listInstances().map((i) => {
  const c = i.validation.categories;
  const base = i.validation.base_state;
  return {
    id: i.instance_id,
    before: c ? `${c.f2p.length + c.n2p.length} / ${c.p2p.length}` : "?",
    after: `${i.FAIL_TO_PASS.length} / ${i.PASS_TO_PASS.length}`,
    moved: c?.from_base.length ?? 0,
    s2p: c?.s2p.length ?? 0,
    base: base ? `${base.mode} (${base.runs} run${base.runs === 1 ? "" : "s"})` : "?",
    loadFlaky: i.validation.load_flaky?.length ?? 0,
    statement: `${i.problem_statement_source ?? "?"}${i.statement?.flags.length ? ` [${i.statement.flags.join(", ")}]` : ""}`,
  };
});
console.log(
  "| instance | FAIL_TO_PASS / PASS_TO_PASS before | after | moved by the base state | base state (extra runs) | statement |",
);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows.sort((a, b) => a.id.localeCompare(b.id)))
  console.log(`| ${r.id} | ${r.before} | ${r.after} | ${r.moved} | ${r.base} | ${r.statement} |`);
const extra = rows.map((r) => Number(/\((\d+) run/.exec(r.base)?.[1] ?? 0));
console.log(
  `\n${rows.length} instances; base state: ${["not_needed", "listed", "runs"].map((m) => `${rows.filter((r) => r.base.startsWith(m)).length} ${m}`).join(", ")}; ${extra.reduce((a, b) => a + b, 0)} extra container runs in all`,
);
const rej = store.listRejections();
const by = new Map<string, number>();
for (const r of rej) by.set(`${r.stage}:${r.reason}`, (by.get(`${r.stage}:${r.reason}`) ?? 0) + 1);
console.log(`rejections: ${[...by].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
for (const r of rej.filter((x) => x.stage === "validate"))
  console.log(`  ${r.id}: ${r.reason}: ${r.detail.split("\n")[0]!.slice(0, 200)}`);
store.close();
