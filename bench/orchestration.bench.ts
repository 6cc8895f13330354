/**
 * Orchestration overhead per candidate with the sandbox left out: mine (git log + diff + split) → store
 * writes → queue hand-off (in-process queue, a job that returns a stand-in instance) → collect into the
 * store → export (JSONL, Parquet, funnel). Target: ≤ 2 ms per candidate.
 *
 *   node bench/orchestration.bench.ts [N]      (default 2,000 PRs; run folder in ./runs or SWEU_BENCH_DIR)
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { exportRun } from "../src/export/index.ts";
import { GitSource } from "../src/mine/git-source.ts";
import { mine } from "../src/mine/mine.ts";
import { MemoryQueue } from "../src/queue/memory.ts";
import { dispatchTasks } from "../src/run/dispatch.ts";
import type { BuildJobData, BuildJobResult } from "../src/run/jobs.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { fmt, peakRssMb, standInInstance, syntheticRepo } from "./lib.ts";

const N = Number(process.argv[2] ?? 2000);
const t0 = performance.now();
const repo = syntheticRepo(N);
const made = performance.now();
// The run folder sits where runs go by default (./runs), or in SWEU_BENCH_DIR: export writes ~8 small files
// per instance, and what that costs is the filesystem's (on this machine /tmp's directory was 10× slower).
const benchDir = process.env.SWEU_BENCH_DIR ?? "runs";
mkdirSync(benchDir, { recursive: true });
const runDir = mkdtempSync(join(benchDir, ".bench-orch-"));
const store = new SqliteStore(join(runDir, "store.sqlite"));
const source = await GitSource.open(repo);

const cpu0 = process.cpuUsage();
const a = performance.now();
const mined = await mine(source, store);
const b = performance.now();
const tasks = store.listTasks();
const queue = new MemoryQueue({
  concurrency: 8,
  handlers: {
    "build-task": async (d) => {
      const instance = standInInstance((d as BuildJobData).task);
      return { outcome: "instance", instance } satisfies BuildJobResult;
    },
  },
});
const s = await dispatchTasks(store, queue, tasks, { runDir, location: repo });
const c = performance.now();
const exported = exportRun(store, runDir);
const d = performance.now();
const cpu = process.cpuUsage(cpu0);
// What every later `run`/`build` pays: export again over an unchanged run.
exportRun(store, runDir);
const e = performance.now();
await source.close();
store.close();

const per = (ms: number) => fmt(ms / N, 3);
console.log(
  `orchestration overhead, ${N} candidates (${mined.tasks} tasks, ${s.instances} stand-in instances)`,
);
console.log(`  synthetic repo built in ${fmt((made - t0) / 1000)} s (not counted)`);
console.log(`  mine + split + store:      ${per(b - a)} ms/candidate`);
console.log(`  queue hand-off + collect:  ${per(c - b)} ms/candidate`);
console.log(`  export (jsonl, parquet):   ${per(d - c)} ms/candidate  (${exported.funnel.instances} rows)`);
console.log(
  `  total:                     ${per(d - a)} ms/candidate  (target ≤ 2 ms: ${(d - a) / N <= 2 ? "met" : "missed"})`,
);
console.log(
  `  CPU of this process:       ${per((cpu.user + cpu.system) / 1000)} ms/candidate (git subprocesses not counted)`,
);
console.log(`  re-export, nothing changed: ${per(e - d)} ms/candidate`);
console.log(`  peak RSS ${fmt(peakRssMb(), 0)} MB`);
rmSync(runDir, { recursive: true, force: true });
rmSync(repo, { recursive: true, force: true });
