import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instanceToRow } from "../../src/export/dataset.ts";
import type { Instance } from "../../src/records/index.ts";
import { pidAlive } from "../../src/run/reap.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { descendants } from "../../src/sandbox/proc.ts";
import { ServeClient } from "../../src/serve/client.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { makeEnvironment, makeInstance, makeTask } from "../export/fixtures.ts";
import { buildProbeImage, probeScript } from "../helpers/probe-image.ts";
import { pythonProject } from "../helpers/repos.ts";
import { type CliProc, spawnCli } from "../queue/cli.ts";
import { type RedisServer, startRedis } from "../queue/redis.ts";
import { manyPrs } from "./bad-input/harness.ts";

/**
 * SIGINT and SIGTERM sent to the pid of every long-running verb, while it is busy (a git child, an image
 * build, a container running a script, a worker waiting on Redis): it exits within 10 s with 130 or 143,
 * no process it started is left, and no container of it remains. Containers: one tiny image (the probe
 * image), shared by every case; run with the container lock held.
 */
const sandbox = createSandbox("auto");
const IMAGE = "localhost/sweu-test-signals:latest";
const procs: CliProc[] = [];
let root: string;
let repo: string;
let bigRepo: string;
let inst: Instance;
let redis: RedisServer;

const PATCH = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n";
const TEST_PATCH =
  "diff --git a/tests/test_a.py b/tests/test_a.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/test_a.py\n@@ -0,0 +1 @@\n+def test_a(): pass\n";

/** A run folder whose one instance runs in the probe image with a verifier that sleeps. */
function validateRun(): string {
  const runDir = mkdtempSync(join(root, "run-"));
  const s = new SqliteStore(join(runDir, "store.sqlite"));
  s.putTask({ ...makeTask(1), patch: PATCH, test_patch: TEST_PATCH });
  s.putEnvironment(makeEnvironment("env1", IMAGE));
  s.putInstance(inst);
  s.close();
  return runDir;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "sweu-signals-"));
  await buildProbeImage(sandbox, IMAGE);
  repo = pythonProject().dir;
  bigRepo = manyPrs(4000);
  inst = makeInstance({
    instance_id: "acme__widgets-1",
    image: IMAGE,
    patch: PATCH,
    test_patch: TEST_PATCH,
    evaluation_script: probeScript("python3 -m pytest tests; sleep 120"),
  });
  redis = await startRedis();
}, 600_000);
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
  await redis?.stop();
  await sandbox.removeImage(IMAGE).catch(() => {});
  await sandbox.cleanup();
});

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Wait until a descendant of `pid` runs a command matching `re`; returns every descendant then. */
async function busy(p: CliProc, re: RegExp | undefined, timeoutMs = 240_000): Promise<number[]> {
  const t0 = Date.now();
  for (;;) {
    const kids = descendants(p.pid);
    if (re === undefined ? Date.now() - t0 > 3000 : kids.some((k) => re.test(cmdline(k)))) return kids;
    if (p.proc.exitCode !== null)
      throw new Error(`exited (${p.proc.exitCode}) before it was busy:\n${p.err()}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`never busy with ${re}:\n${p.err().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function containersOf(pid: number): string[] {
  const r = spawnSync(
    sandbox.engine,
    ["ps", "-a", "--filter", "label=sweu.session", "--format", "{{.Names}}"],
    {
      encoding: "utf8",
    },
  );
  return r.stdout.split("\n").filter((n) => n.startsWith(`sweu-${pid}-`));
}

interface Verb {
  name: string;
  argv: () => string[];
  /** What a child runs once the verb is busy. */
  busy?: RegExp;
  /** Or: a line on stderr that says it is running. */
  ready?: RegExp;
  /** Once ready: make it busy (a client's request in flight). */
  engage?: (p: CliProc) => Promise<void>;
  env?: Record<string, string>;
  /** Exit codes for SIGINT and SIGTERM. */
  codes?: [number, number];
  /** Checked once the verb has exited: nothing recorded was lost. */
  after?: () => void;
}

let validated = "";

const VERBS: Verb[] = [
  {
    name: "mine",
    argv: () => ["mine", bigRepo, "--run-dir", mkdtempSync(join(root, "mine-"))],
    busy: /^git /,
  },
  {
    name: "build",
    argv: () => {
      const runDir = mkdtempSync(join(root, "build-"));
      execFileSync(process.execPath, [
        join(import.meta.dirname, "../../src/cli/main.ts"),
        "mine",
        repo,
        "--run-dir",
        runDir,
      ]);
      return ["build", "--run-dir", runDir, "--runs", "1", "--skip-probes"];
    },
    busy: /(podman|docker) .*(build|run|exec)/,
  },
  {
    name: "run",
    argv: () => ["run", repo, "--run-dir", mkdtempSync(join(root, "run-")), "--runs", "1", "--no-progress"],
    busy: /(podman|docker) .*(build|run|exec)/,
  },
  {
    name: "universe",
    argv: () => {
      const dir = mkdtempSync(join(root, "universe-"));
      writeFileSync(join(dir, "repos.txt"), `${repo}\n`);
      const runDir = join(dir, "run");
      return [
        "universe",
        "--repos",
        join(dir, "repos.txt"),
        "--run-dir",
        runDir,
        "--runs",
        "1",
        "--no-progress",
      ];
    },
    busy: /(podman|docker) .*(build|run|exec)/,
  },
  {
    name: "validate",
    argv: () => {
      validated = validateRun();
      return ["validate", "--run-dir", validated, "--runs", "1", "--skip-probes"];
    },
    busy: /(podman|docker) .*exec/,
    // The validation cut short is not an outcome: the instance stays, no rejection replaces it.
    after: () => {
      const s = new SqliteStore(join(validated, "store.sqlite"), { readonly: true });
      expect(s.listInstances().map((i) => i.instance_id)).toEqual([inst.instance_id]);
      expect(s.listRejections()).toEqual([]);
      s.close();
    },
  },
  {
    name: "evaluate",
    argv: () => {
      const ds = join(mkdtempSync(join(root, "eval-")), "dataset.jsonl");
      writeFileSync(ds, `${JSON.stringify(instanceToRow(inst))}\n`);
      return ["evaluate", "--dataset", ds, "--predictions", "gold", "--out", join(ds, "..", "out")];
    },
    busy: /(podman|docker) .*exec/,
  },
  {
    name: "check-verifier --image",
    argv: () => {
      const dir = mkdtempSync(join(root, "cv-"));
      writeFileSync(
        join(dir, "task.json"),
        JSON.stringify({ instance_id: "a-1", patch: PATCH, test_patch: TEST_PATCH }),
      );
      writeFileSync(join(dir, "evaluation.sh"), probeScript("pytest tests; sleep 120"));
      return ["check-verifier", dir, "--image", IMAGE];
    },
    busy: /(podman|docker) .*exec/,
  },
  {
    name: "worker (Redis unreachable)",
    argv: () => ["worker", "--redis", "redis://127.0.0.1:1", "--work-dir", mkdtempSync(join(root, "wk-"))],
    env: { SWEU_LOG: "warn" },
    ready: /redis \(worker\): retrying/,
  },
  {
    name: "worker (idle, Redis up: hands back)",
    argv: () => [
      "worker",
      "--redis",
      redis.url,
      "--queue",
      "sig",
      "--work-dir",
      mkdtempSync(join(root, "wk-")),
    ],
    ready: /worker \d+: ready/,
  },
  {
    name: "serve (a session's command running: closes the session)",
    argv: () => {
      const ds = join(mkdtempSync(join(root, "serve-")), "dataset.jsonl");
      writeFileSync(ds, `${JSON.stringify(instanceToRow(inst))}\n`);
      return ["serve", "--dataset", ds, "--token", "t", "--port", "0", "--warm", "0"];
    },
    ready: /OpenAPI at /,
    engage: async (p) => {
      while (!p.out().includes("\n")) await new Promise((r) => setTimeout(r, 50)); // stdout: where it listens
      const { url } = JSON.parse(p.out().split("\n")[0]!) as { url: string };
      const session = await new ServeClient({ url, token: "t" }).start(inst.instance_id);
      void session.exec("sleep 60").catch(() => undefined);
      await busy(p, /(podman|docker) .*exec/);
    },
  },
];

describe("SIGINT and SIGTERM to the pid of each long-running verb", () => {
  for (const v of VERBS)
    for (const [sig, code] of [
      ["SIGINT", v.codes?.[0] ?? 130],
      ["SIGTERM", v.codes?.[1] ?? 143],
    ] as const) {
      it(`${v.name}: ${sig} → exit ${code} within 10 s, no child, no container left`, async () => {
        const p = spawnCli(v.argv(), v.env);
        procs.push(p);
        if (v.ready) await p.waitFor(v.ready, 120_000);
        await v.engage?.(p);
        const kids = v.ready ? descendants(p.pid) : await busy(p, v.busy);
        if (v.busy) expect(kids.length).toBeGreaterThan(0);
        const t0 = Date.now();
        p.proc.kill(sig);
        const exit = await Promise.race([
          p.exited,
          new Promise((r) => setTimeout(() => r("still running"), 10_000)),
        ]);
        expect(exit, p.err().slice(-2000)).toBe(code);
        expect(Date.now() - t0).toBeLessThan(10_000);
        expect(kids.filter((k) => pidAlive(k) && !zombie(k)).map(cmdline)).toEqual([]);
        expect(containersOf(p.pid)).toEqual([]);
        expect(p.err()).not.toMatch(/^\s+at /m);
        v.after?.();
      }, 300_000);
    }
});
