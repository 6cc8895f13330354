/**
 * The rollout service under 1, 4 and 16 concurrent sessions (or --sizes), on one instance: the pipeline's
 * own pythonProject instance built here (its images removed at the end), or --dataset/--instance.
 *
 *   node bench/serve.bench.ts [--dataset D --instance ID] [--sizes 1,4,16] [--execs 10]
 *
 * For each size N it prints:
 * - start latency, cold (no warm pool: the engine creates every container) and warm (the pool holds N);
 * - exec round trip (`true` through the client, HTTP, the service and the container) next to a bare
 *   `<engine> exec <container> true` run by N loops at once on N containers, and the difference;
 * - reward latency (submit of the gold patch: diff, fresh container, patches, evaluation.sh, grading) as a
 *   ratio to the bare test-suite time (evaluation.sh alone, timed inside a prepared container, uncontended).
 * Grading runs N at once here (--max-grading N) so the figure is the service's cost, not its queue.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parserFor } from "../src/harness/parse-run.ts";
import { runInContainer } from "../src/harness/run-state.ts";
import { GitSource } from "../src/mine/git-source.ts";
import type { Instance } from "../src/records/index.ts";
import { runPipeline } from "../src/run/pipeline.ts";
import { ensureBaseImage } from "../src/sandbox/base-image.ts";
import { createSandbox, type OciSandbox } from "../src/sandbox/index.ts";
import { ServeClient, type Session } from "../src/serve/client.ts";
import { loadDatasets, startService } from "../src/serve/service.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { pythonProject } from "../test/helpers/repos.ts";
import { fmt } from "./lib.ts";

const { values } = parseArgs({
  options: {
    dataset: { type: "string" },
    instance: { type: "string" },
    sizes: { type: "string", default: "1,4,16" },
    execs: { type: "string", default: "10" },
  },
});
const SIZES = values.sizes.split(",").map(Number);
const EXECS = Number(values.execs);
const TOKEN = "bench";
const sandbox = createSandbox("auto") as OciSandbox;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.floor((s.length - 1) / 2)]! + s[Math.ceil((s.length - 1) / 2)]!) / 2 : Number.NaN;
};
const max = (xs: number[]) => Math.max(...xs);
const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
};

async function instanceUnderTest(): Promise<{ inst: Instance; dataset: string; built: string[] }> {
  if (values.dataset) {
    const all = loadDatasets([values.dataset]);
    const inst = values.instance ? all.find((i) => i.instance_id === values.instance) : all[0];
    if (!inst) throw new Error(`no instance ${values.instance} in ${values.dataset}`);
    return { inst, dataset: values.dataset, built: [] };
  }
  await ensureBaseImage(sandbox);
  const runDir = join(process.env.TMPDIR ?? "/tmp", `sweu-bench-serve-${process.pid}`);
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const source = await GitSource.open(pythonProject().dir);
  await runPipeline(source, store, sandbox, { runDir, runsPerState: 1 });
  const inst = store.listInstances()[0];
  if (!inst) throw new Error("the pipeline made no instance");
  const envs = store.listEnvironments().map((e) => e.image);
  store.close();
  return { inst, dataset: join(runDir, "dataset.jsonl"), built: [inst.image, ...envs] };
}

/** `<engine> exec <id> true`, n times in a row. */
async function bareExecs(id: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await new Promise<void>((ok, fail) => {
      const p = spawn(sandbox.executable, sandbox.args("exec", id, "true"), { stdio: "ignore" });
      p.on("error", fail);
      p.on("exit", () => ok());
    });
    out.push(performance.now() - t);
  }
  return out;
}

/** evaluation.sh alone, in a container already holding the gold and test patches: the floor of a reward. */
async function bareTestTime(inst: Instance, image: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await sandbox.start({ image, network: false });
    try {
      const raw = await runInContainer(c, {
        image,
        patch: inst.patch,
        testPatch: inst.test_patch,
        evaluationScript: inst.evaluation_script,
        timeoutMs: 600_000,
      });
      if (!parserFor(inst.parser)(raw.output, raw.nonce).parsed) throw new Error("gold run did not parse");
      times.push(raw.durationMs);
    } finally {
      await c.remove();
    }
  }
  return median(times);
}

async function round(n: number, inst: Instance, dataset: string, warm: boolean) {
  const service = await startService({
    datasets: [dataset],
    sandbox,
    token: TOKEN,
    config: { maxSessions: n, maxGrading: n, warm: { perSpec: warm ? n : 0, max: 2 * n + 2 } },
    ...(warm ? { prewarm: [inst.instance_id] } : {}),
  });
  try {
    if (warm) {
      await service.prewarmed;
      await service.manager.pool.settled(600_000);
    }
    const client = new ServeClient({ url: service.url, token: TOKEN });
    const started = await Promise.all(
      Array.from({ length: n }, () => timed(() => client.start(inst.instance_id))),
    );
    const sessions: Session[] = started.map(([s]) => s);
    const starts = started.map(([, ms]) => ms);
    let execs: number[] = [];
    let rewards: number[] = [];
    if (warm) {
      await Promise.all(sessions.map((s) => s.exec("true"))); // first exec of a container is slower
      await service.manager.pool.settled(600_000); // the pool's refill is not measured as exec time
      const per = await Promise.all(
        sessions.map(async (s) => {
          const xs: number[] = [];
          for (let i = 0; i < EXECS; i++) xs.push((await timed(() => s.exec("true")))[1]);
          return xs;
        }),
      );
      execs = per.flat();
      await service.manager.pool.settled(600_000);
      const graded = await Promise.all(sessions.map((s) => timed(() => s.submit(inst.patch))));
      if (graded.some(([r]) => r.reward !== 1)) throw new Error("the gold patch was not rewarded 1");
      rewards = graded.map(([, ms]) => ms);
    }
    const ids = sessions.map((s) => service.manager.get(s.id).container.id);
    const bare = warm ? (await Promise.all(ids.map((id) => bareExecs(id, EXECS)))).flat() : [];
    await Promise.all(sessions.map((s) => s.close()));
    return { starts, execs, bare, rewards };
  } finally {
    await service.close();
  }
}

async function main() {
  const { inst, dataset, built } = await instanceUnderTest();
  try {
    const bareTest = await bareTestTime(inst, inst.image);
    console.log(
      `instance ${inst.instance_id}; bare evaluation.sh (gold, uncontended): ${fmt(bareTest / 1000)} s`,
    );
    console.log(
      "| sessions | start cold (median / max) | start warm (median / max) | exec via serve | bare exec | overhead | reward latency (median / max) | ratio to bare test |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const n of SIZES) {
      const cold = await round(n, inst, dataset, false);
      const warm = await round(n, inst, dataset, true);
      const s = (xs: number[]) => `${fmt(median(xs) / 1000)} / ${fmt(max(xs) / 1000)} s`;
      const ms = (x: number) => `${fmt(x, 0)} ms`;
      console.log(
        `| ${n} | ${s(cold.starts)} | ${s(warm.starts)} | ${ms(median(warm.execs))} | ${ms(median(warm.bare))} | ` +
          `${ms(median(warm.execs) - median(warm.bare))} | ${s(warm.rewards)} | ${fmt(median(warm.rewards) / bareTest, 1)}× |`,
      );
    }
  } finally {
    await sandbox.cleanup();
    for (const image of built) await sandbox.removeImage(image).catch(() => undefined);
  }
}

await main();
process.exit(0);
