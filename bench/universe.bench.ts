/**
 * A simulated universe run through the queue, the sandbox left out: R repositories × C candidates each are
 * listed, mined (real git: one synthetic history of C merged PRs, listed under R names), handed out in fair
 * turns across repositories through the in-process queue to a job that returns a stand-in instance (or a
 * rejection, one in four) at once, written into the one store, and exported (HF shards, JSONL, funnel,
 * report.html). It prints the coordinator's CPU per candidate and its peak memory, for each R given.
 *
 *   node bench/universe.bench.ts [C=100] [R...=100 1000]      (each R in a process of its own)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { exportUniverse } from "../src/export/index.ts";
import { MemoryQueue } from "../src/queue/memory.ts";
import type { BuildJobData, BuildJobResult } from "../src/run/jobs.ts";
import type { Sandbox } from "../src/sandbox/sandbox.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { recordListing, runUniverse } from "../src/universe/universe.ts";
import { fmt, peakRssMb, standInInstance, syntheticRepo } from "./lib.ts";

const args = process.argv.slice(2);
const child = args[0] === "--child";
const C = Number((child ? args[2] : args[0]) ?? 100);

if (!child) {
  const sizes = (args.length > 1 ? args.slice(1) : ["100", "1000"]).map(Number);
  const repo = syntheticRepo(C, 20);
  const rows: string[] = [];
  for (const r of sizes) {
    const p = spawnSync(process.execPath, [import.meta.filename, "--child", String(r), String(C), repo], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 26,
    });
    if (p.status !== 0) throw new Error(`bench child failed (${p.status})`);
    rows.push(p.stdout.trim());
  }
  rmSync(repo, { recursive: true, force: true });
  console.log(`simulated universe: C = ${C} candidates per repository, in-process queue, sandbox left out`);
  console.log(
    "| repositories | candidates | wall | coordinator CPU | CPU / candidate | all mined at | run | export | peak RSS, run | peak RSS, with export |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(r);
  process.exit(0);
}

const R = Number(args[1]);
const repoDir = args[3]!;
const benchDir = process.env.SWEU_BENCH_DIR ?? "runs";
mkdirSync(benchDir, { recursive: true });
const runDir = mkdtempSync(join(benchDir, ".bench-universe-"));
const store = new SqliteStore(join(runDir, "store.sqlite"));
const names = Array.from({ length: R }, (_, i) => `bench/r${String(i).padStart(5, "0")}`);
recordListing(store, {
  repos: names.map((name, i) => ({ name, from: `bench:${i + 1}`, input: name, location: repoDir })),
  notes: [],
});
let jobs = 0;
const queue = new MemoryQueue({
  concurrency: 16,
  handlers: {
    "build-task": async (d) => {
      const { task } = d as BuildJobData;
      jobs++;
      if (jobs % 4 === 0)
        return {
          outcome: "rejected",
          rejection: {
            id: task.instance_id,
            repo: task.repo,
            number: task.number,
            stage: "validate",
            reason: "buggy_passes",
            detail: "",
            at: new Date().toISOString(),
          },
          ms: 1000,
        } satisfies BuildJobResult;
      const instance = standInInstance(task);
      instance.cost.wall_ms = 1000 + (task.number % 50) * 100;
      return { outcome: "instance", instance, ms: instance.cost.wall_ms } satisfies BuildJobResult;
    },
  },
});
// Never called: the queue is given, and the stand-in job touches no sandbox.
const noSandbox = {} as Sandbox;
let mined = 0;
let minedAt = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const s = await runUniverse(store, noSandbox, {
  runDir,
  budgets: {},
  queue,
  miningConcurrency: 4,
  // A listener, as the CLI's progress display is: its cost is part of the coordinator's.
  onEvent: (e) => {
    if (e.type === "repo" && e.status === "mined" && ++mined === R) minedAt = performance.now();
  },
});
const t1 = performance.now();
const runPeak = peakRssMb();
const ex = exportUniverse(store, runDir);
const t2 = performance.now();
const cpu = process.cpuUsage(cpu0);
store.close();
const candidates = ex.funnel.candidates;
const cpuMs = (cpu.user + cpu.system) / 1000;
if (s.built !== candidates) throw new Error(`built ${s.built} of ${candidates}`);
console.log(
  `| ${R} | ${candidates} | ${fmt((t2 - t0) / 1000, 1)} s | ${fmt(cpuMs / 1000, 1)} s | ${fmt(cpuMs / candidates, 3)} ms | ` +
    `${fmt((minedAt - t0) / 1000, 1)} s | ${fmt((t1 - t0) / 1000, 1)} s | ${fmt((t2 - t1) / 1000, 1)} s | ` +
    `${fmt(runPeak, 0)} MB | ${fmt(peakRssMb(), 0)} MB |`,
);
rmSync(runDir, { recursive: true, force: true });
