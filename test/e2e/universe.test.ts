/**
 * A universe run on real machines' terms: three repositories the test makes (served as clone URLs), a real
 * redis-server, a real registry (Debian's docker-registry), and workers that share nothing but those two —
 * separate work folders and separate container storage (podman's graphroot/runroot through
 * CONTAINERS_STORAGE_CONF), as separate machines would have. The first worker is killed with SIGKILL in
 * the middle of a job; a third worker whose pushes the registry refuses hands its job back; the second
 * worker finishes the run, pulling the base image and an environment the first pushed. One dataset and one
 * funnel across the three repositories come out, and Hugging Face `datasets` loads the folder.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registryRef } from "../../src/run/push.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { consumerPython } from "../helpers/consumers.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { nodeProject, pythonProject, type TestRepo } from "../helpers/repos.ts";
import { type CliProc, spawnCli } from "../queue/cli.ts";
import { type RedisServer, startRedis } from "../queue/redis.ts";
import { textopsProject } from "../universe/helpers.ts";

const root = mkdtempSync(join(tmpdir(), "sweu-universe-e2e-"));
const procs: CliProc[] = [];
const storages: string[] = [];
let redis: RedisServer;
let registry: Registry;
const sandbox = createSandbox("podman");

/** A podman storage of its own (graphroot, runroot) for one "machine". */
function storage(name: string): Record<string, string> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "storage.conf");
  writeFileSync(
    conf,
    `[storage]\ndriver = "overlay"\ngraphroot = "${join(dir, "graph")}"\nrunroot = "${join(dir, "run")}"\n`,
  );
  storages.push(conf);
  return { CONTAINERS_STORAGE_CONF: conf, SWEU_CACHE_DIR: join(dir, "cache") };
}

/** The repository served as a clone URL at …/acme/<name>.git. */
function served(repo: TestRepo, name: string): string {
  const bare = join(root, "git", "acme", `${name}.git`);
  mkdirSync(join(root, "git", "acme"), { recursive: true });
  spawnSync("git", ["clone", "-q", "--bare", repo.dir, bare]);
  return `file://${bare}`;
}

function worker(name: string, env: Record<string, string>): CliProc {
  const p = spawnCli(
    [
      "worker",
      "--redis",
      redis.url,
      "--queue",
      "uni",
      "--work-dir",
      join(root, name, "work"),
      "--lock-timeout",
      "10",
    ],
    env,
  );
  procs.push(p);
  return p;
}

beforeAll(async () => {
  redis = await startRedis();
  registry = await startRegistry();
  // What a first machine of the cluster would have done: its base image, in the registry for the others.
  const base = await ensureBaseImage(sandbox);
  const pushed = await sandbox.push(base, registryRef(base, `${registry.host}/sweu`));
  if (!pushed.ok) throw new Error(`base image push: ${pushed.error}`);
}, 900_000);

afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  // Each machine's storage goes whole: its containers (the killed worker left some), then its images.
  for (const conf of storages) {
    const env = { ...process.env, CONTAINERS_STORAGE_CONF: conf };
    for (const what of [
      ["rm", "-af", "-t", "0"],
      ["rmi", "-af"],
    ])
      spawnSync("podman", what, { env, stdio: "ignore" });
  }
  // The refused worker built in this machine's own storage: the images of this test's repositories go.
  const tags = spawnSync("podman", ["images", "--format", "{{.Repository}}:{{.Tag}}"], { encoding: "utf8" });
  for (const tag of tags.stdout.split("\n"))
    if (/sweu\.(eval|env)\.acme__(textops|calc|strs)/.test(tag))
      spawnSync("podman", ["rmi", "-f", tag], { stdio: "ignore" });
  await sandbox.cleanup();
  await registry?.stop();
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
}, 600_000);

describe("universe run: three repositories, two workers that share only Redis and a registry", () => {
  it("one worker killed mid-job, one refused by the registry; one dataset, one funnel; the second worker pulls", async () => {
    const list = join(root, "repos.txt");
    writeFileSync(
      list,
      [
        served(textopsProject(), "textops"),
        served(pythonProject(), "calc"),
        served(nodeProject(), "strs"),
        "",
      ].join("\n"),
    );
    const runDir = join(root, "run");
    const reg = `${registry.host}/sweu`;
    const w1 = worker("w1", storage("w1"));
    await w1.waitFor(/ready/, 60_000);
    const coord = spawnCli(
      [
        "universe",
        "--repos",
        list,
        "--run-dir",
        runDir,
        "--redis",
        redis.url,
        "--queue",
        "uni",
        "--registry",
        reg,
      ].concat(["--runs", "1", "--skip-probes", "--no-progress", "--max-prs", "5", "--mining", "1"]),
    );
    procs.push(coord);
    // Mined one at a time, textops first: the first worker alone builds its newest task (#2) and pushes the
    // environment #1 shares.
    await w1.waitFor(/done acme__/, 900_000);
    // Then the second machine, and a third whose registry is unreachable for it (blocked in its registries.conf).
    const w2 = worker("w2", storage("w2"));
    const blockedConf = join(root, "w3-registries.conf");
    writeFileSync(blockedConf, `[[registry]]\nlocation = "${registry.host}"\nblocked = true\n`);
    const w3 = worker("w3", {
      CONTAINERS_REGISTRIES_CONF: blockedConf,
      SWEU_CACHE_DIR: join(root, "w3-cache"),
    });
    // The first worker dies holding its second job.
    const second = () => (w1.err().match(/start acme__/g) ?? []).length >= 2;
    for (const t0 = Date.now(); !second(); ) {
      if (Date.now() - t0 > 600_000) throw new Error(`w1 took no second job:\n${w1.err()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 5000));
    w1.proc.kill("SIGKILL");
    // The refused worker hands its job back; the coordinator names it once per failure.
    await coord.waitFor(/infrastructure: push_refused at /, 1_200_000);
    w3.proc.kill("SIGTERM");
    expect(await coord.exited, coord.err().slice(-4000)).toBe(0);

    // One dataset: every instance named by the registry, Hugging Face layout, loaded by `datasets`.
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const instances = store.listInstances();
    const rejections = store.listRejections().filter((r) => r.stage !== "mine" && r.stage !== "split");
    store.close();
    expect(rejections, JSON.stringify(rejections)).toEqual([]);
    expect(instances.map((i) => i.instance_id).sort()).toEqual([
      "acme__calc-1",
      "acme__strs-2",
      "acme__textops-1",
      "acme__textops-2",
    ]);
    for (const i of instances)
      expect(i.image_name).toMatch(new RegExp(`^${registry.host}/sweu/sweu\\.eval\\.`));
    expect(await registry.tags("sweu/sweu.eval.acme__textops-1")).toEqual(["latest"]);
    expect(existsSync(join(runDir, "data", "train-00000-of-00001.parquet"))).toBe(true);
    const py = spawnSync(
      consumerPython(),
      [
        "-c",
        `import datasets, json\nds = datasets.load_dataset(${JSON.stringify(runDir)}, split="train")\nprint(json.dumps(sorted(ds["image_name"])))`,
      ],
      { encoding: "utf8", timeout: 300_000 },
    );
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toHaveLength(4);

    // One funnel across the three repositories, with the infrastructure failures counted.
    const f = JSON.parse(readFileSync(join(runDir, "funnel.json"), "utf8"));
    expect(
      f.repositories.map((r: { repo: string; instances: number }) => [r.repo, r.instances]).sort(),
    ).toEqual([
      ["acme/calc", 1],
      ["acme/strs", 1],
      ["acme/textops", 2],
    ]);
    expect(f.by_language.map((l: { language: string }) => l.language).sort()).toEqual([
      "javascript",
      "python",
    ]);
    expect(
      f.infrastructure.find((i: { kind: string }) => i.kind === "push_refused")?.count,
    ).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(runDir, "report.html"))).toBe(true);

    // The second worker pulled what the first pushed: the base image, and textops's environment.
    expect(w2.err()).toMatch(/done acme__textops-1/);
    const traj = readFileSync(join(runDir, "trajectories", "acme__textops-1.jsonl"), "utf8");
    expect(traj).toMatch(/environment [0-9a-f]+ \(exact, pulled from the registry\)/);
    // The killed worker's job was done by another; nothing was lost or done twice.
    expect(coord.err()).not.toMatch(/stays pending/);
    w2.proc.kill("SIGTERM");
    await w2.exited;
  }, 3_000_000);
});
