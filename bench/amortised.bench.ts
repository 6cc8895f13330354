/**
 * Amortised wall time per instance, and its ratio to the floor. A generated Python project with K PRs
 * (default 5; each fixes one function and adds its test) goes through the real pipeline (mine → build →
 * validate → export) on the local engine. The floor is measured directly: one dependency install (the
 * environment's Dockerfile built once, cache busted) plus the test runs validation needs (2 states × runs
 * per instance, evaluation.sh timed in a container). Then the incremental disk per instance is printed.
 *
 *   node bench/amortised.bench.ts [--prs K] [--runs R] [--probes] [--reuse | --no-reuse] [--workers N]
 *
 * --reuse / --no-reuse set the pipeline's `reuse` option (also SWEU_REUSE=1/0 for the builders).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GitSource } from "../src/mine/git-source.ts";
import { runPipeline } from "../src/run/pipeline.ts";
import { createSandbox } from "../src/sandbox/index.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { TestRepo } from "../test/helpers/repos.ts";
import { printDisk } from "./disk.bench.ts";
import { fmt } from "./lib.ts";

const { values } = parseArgs({
  options: {
    prs: { type: "string", default: "5" },
    runs: { type: "string", default: "1" },
    probes: { type: "boolean", default: false },
    reuse: { type: "boolean" },
    "no-reuse": { type: "boolean" },
    workers: { type: "string", default: "1" },
  },
});
const K = Number(values.prs);
const RUNS = Number(values.runs);
const reuse = values["no-reuse"] ? false : values.reuse ? true : undefined;
if (reuse !== undefined) process.env.SWEU_REUSE = reuse ? "1" : "0";

function project(k: number): TestRepo {
  const r = new TestRepo("sweu-bench-py-");
  const fn = (i: number, fixed: boolean) => `def f${i}(x):\n    return x + ${fixed ? i : i - 1}\n`;
  const src = (fixedUpTo: number) =>
    Array.from({ length: k }, (_, i) => fn(i + 1, i + 1 <= fixedUpTo)).join("\n\n");
  const tests = (upTo: number) =>
    `from pkg.ops import *\n\n\ndef test_sanity():\n    assert True\n` +
    Array.from(
      { length: upTo },
      (_, i) => `\n\ndef test_f${i + 1}():\n    assert f${i + 1}(0) == ${i + 1}\n`,
    ).join("");
  r.commit("Initial package", {
    "pyproject.toml":
      '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "pkg"\nversion = "0.1.0"\n\n[project.optional-dependencies]\ntest = ["pytest"]\n',
    "pkg/__init__.py": "",
    "pkg/ops.py": src(0),
    "tests/__init__.py": "",
    "tests/test_ops.py": tests(0),
  });
  for (let i = 1; i <= k; i++)
    r.mergePr(i, `fix-f${i}`, `Fix f${i} off by one`, `f${i} returned x + ${i - 1}.`, [
      { "pkg/ops.py": src(i), "tests/test_ops.py": tests(i) },
    ]);
  return r;
}

const sandbox = createSandbox("auto");
try {
  const repo = project(K);
  const runDir = mkdtempSync(join(tmpdir(), "sweu-bench-amort-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const source = await GitSource.open(repo.dir);
  const t0 = performance.now();
  const extra = reuse === undefined ? {} : { reuse };
  const summary = await runPipeline(source, store, sandbox, {
    runDir,
    runsPerState: RUNS,
    skipProbes: !values.probes,
    keepWork: true,
    workers: Number(values.workers),
    ...extra,
  });
  const wall = performance.now() - t0;
  const instances = store.listInstances();
  console.log(
    `amortised wall time: ${K} PRs → ${summary.instances} instances, ${summary.rejected} rejected, in ${fmt(wall / 1000, 1)} s` +
      ` → ${fmt(wall / 1000 / Math.max(1, instances.length), 1)} s per instance (reuse ${reuse === undefined ? "default" : reuse ? "on" : "off"}, runs ${RUNS}, probes ${values.probes ? "on" : "off"})`,
  );

  // Floor: one install, timed by building the first environment's Dockerfile again with the cache busted.
  const first = instances[0];
  let installMs = Number.NaN;
  if (first) {
    const env = store.getEnvironment(first.environment_key);
    const context = join(runDir, "work", first.instance_id, "context");
    if (env && existsSync(context)) {
      const nonce = randomBytes(6).toString("hex");
      const dockerfile = env.dockerfile.replace(/^(FROM [^\n]+\n)/, `$1RUN echo ${nonce} >/dev/null\n`);
      const b = await sandbox.build({
        tag: `sweu-bench-floor:${nonce}`,
        dockerfile,
        contextDir: context,
        network: true,
      });
      if (b.ok) installMs = b.durationMs;
      await sandbox.removeImage(`sweu-bench-floor:${nonce}`).catch(() => {});
    }
  }
  // Floor: the test runs validation needs, timed directly in one container per instance.
  let testMs = 0;
  for (const inst of instances) {
    const c = await sandbox.start({ image: inst.image, network: false });
    try {
      await c.writeFile("/tmp/eval.sh", inst.evaluation_script, 0o755);
      await c.writeFile("/tmp/test.patch", inst.test_patch);
      await c.writeFile("/tmp/gold.patch", inst.patch);
      await c.exec("cd /testbed && git apply /tmp/test.patch");
      for (let i = 0; i < RUNS; i++) testMs += (await c.exec("bash /tmp/eval.sh")).durationMs;
      await c.exec("cd /testbed && git apply /tmp/gold.patch");
      for (let i = 0; i < RUNS; i++) testMs += (await c.exec("bash /tmp/eval.sh")).durationMs;
    } finally {
      await c.remove();
    }
  }
  const floor = installMs + testMs;
  console.log(
    `floor: one install ${fmt(installMs / 1000, 1)} s + ${2 * RUNS * instances.length} test runs ${fmt(testMs / 1000, 1)} s` +
      ` = ${fmt(floor / 1000, 1)} s → ${fmt(floor / 1000 / Math.max(1, instances.length), 1)} s per instance`,
  );
  console.log(`ratio wall / floor: ${fmt(wall / floor, 2)}×`);
  printDisk(runDir);
  await source.close();
  store.close();
} finally {
  await sandbox.cleanup();
}
