import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
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
import { CLI, type CliProc, spawnCli } from "../queue/cli.ts";
import { type RedisServer, startRedis } from "../queue/redis.ts";
import { manyPrs } from "./bad-input/harness.ts";

/**
 * SIGINT and SIGTERM sent to every long-running verb while it is busy (a git child, an image build, a
 * container running a script, a push to a registry that never answers, a worker waiting on Redis): to its
 * pid (a supervisor, `timeout -s INT`), and to its whole process group (Ctrl-C in a terminal, `kill --
 * -PGID`, a supervisor's group stop), where every child gets the signal too and dies under the verb. It
 * exits within 10 s with 130 or 143, no process it started is left, no container of it remains, and nothing
 * recorded was lost or replaced by a verdict of the cut-short work. Containers: one tiny image (the probe
 * image) shared by every case, and one small Python environment built once for synth; run with the
 * container lock held.
 */
const sandbox = createSandbox("auto");
const IMAGE = "localhost/sweu-test-signals:latest";
const procs: CliProc[] = [];
let root: string;
let repo: string;
let bigRepo: string;
let inst: Instance;
let redis: RedisServer;
/** A registry that accepts connections and never answers: a push to it hangs until it is stopped. */
let stalled: { server: Server; port: number; sockets: Set<Socket> };

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
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    sockets.add(c);
    c.on("error", () => undefined);
    c.on("close", () => sockets.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  stalled = { server, port: (server.address() as { port: number }).port, sockets };
}, 600_000);
afterAll(async () => {
  for (const c of stalled?.sockets ?? []) c.destroy();
  stalled?.server.close();
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
  /** The verb's environment, made when its case starts. */
  env?: () => Record<string, string>;
  /** Exit codes for SIGINT and SIGTERM. */
  codes?: [number, number];
  /** Checked once the verb has exited: nothing recorded was lost. */
  after?: () => void;
}

let validated = "";
let built: string | undefined;
let synthRun = "";

/** A run folder of pythonProject with one validated instance (built once), copied for each synth case. */
function builtRun(): string {
  if (!built) {
    built = mkdtempSync(join(root, "built-"));
    execFileSync(
      process.execPath,
      [CLI, "run", repo, "--run-dir", built, "--runs", "1", "--skip-probes", "--no-progress"],
      { stdio: "ignore" },
    );
  }
  const copy = mkdtempSync(join(root, "synth-"));
  rmSync(copy, { recursive: true });
  cpSync(built, copy, { recursive: true });
  return copy;
}

/**
 * A PATH on which the engine stops answering once the verb has checked it: the engine's command answers
 * `info`, `--version` and image lookups (the verb's preflight passes), every other call hangs, as an
 * engine whose storage lock is held or whose daemon froze does.
 */
function frozenEnginePath(): string {
  const bin = join(root, "frozen-engine");
  mkdirSync(bin, { recursive: true });
  const real = execFileSync("bash", ["-c", `command -v ${sandbox.engine}`], { encoding: "utf8" }).trim();
  writeFileSync(
    join(bin, sandbox.engine),
    [
      "#!/bin/bash",
      'for a in "$@"; do case "$a" in info|inspect|exists|--version|version) exec ' +
        real +
        ' "$@";; esac; done',
      "exec sleep 600",
      "",
    ].join("\n"),
  );
  chmodSync(join(bin, sandbox.engine), 0o755);
  return `${bin}:${process.env.PATH}`;
}

/** No synthetic verdict and no failed baseline recorded for work a signal cut short. */
function nothingSynthRecorded(runDir: string): void {
  const s = new SqliteStore(join(runDir, "store.sqlite"), { readonly: true });
  try {
    expect(s.listInstances().filter((i) => i.source !== "synthetic")).toHaveLength(1);
    expect(s.listSynthetic().map((c) => `${c.id}: ${c.outcome} ${c.reason ?? ""}`)).toEqual([]);
    const id = s.listInstances()[0]!.instance_id;
    expect(s.getMeta(`synth:baseline-failed:${id}`)).toBeUndefined();
  } finally {
    s.close();
  }
}

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
      execFileSync(process.execPath, [CLI, "mine", repo, "--run-dir", runDir]);
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
    name: "evaluate (the engine stops answering)",
    argv: () => {
      const ds = join(mkdtempSync(join(root, "eval-frozen-")), "dataset.jsonl");
      writeFileSync(ds, `${JSON.stringify(instanceToRow(inst))}\n`);
      return ["evaluate", "--dataset", ds, "--predictions", "gold", "--out", join(ds, "..", "out")];
    },
    env: () => ({ PATH: frozenEnginePath() }),
    busy: /^sleep 600/,
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
    name: "synth",
    argv: () => {
      synthRun = builtRun();
      return ["synth", "--run-dir", synthRun, "--runs", "1", "--skip-probes"];
    },
    busy: /(podman|docker) .*(build|run|exec)/,
    after: () => nothingSynthRecorded(synthRun),
  },
  {
    name: "push (a registry that never answers)",
    argv: () => {
      validated = validateRun();
      return [
        "push",
        "--run-dir",
        validated,
        "--registry",
        `127.0.0.1:${stalled.port}/sweu`,
        "--attempts",
        "1",
      ];
    },
    busy: /(podman|docker) .*push/,
    // The push cut short is not recorded as refused; the instance stays as it was.
    after: () => {
      const s = new SqliteStore(join(validated, "store.sqlite"), { readonly: true });
      expect(s.listInstances().map((i) => [i.instance_id, i.image_name])).toEqual([
        [inst.instance_id, inst.image_name],
      ]);
      expect(s.getMeta(`push:${inst.instance_id}`)).toBeUndefined();
      s.close();
    },
  },
  {
    name: "worker (Redis unreachable)",
    argv: () => ["worker", "--redis", "redis://127.0.0.1:1", "--work-dir", mkdtempSync(join(root, "wk-"))],
    env: () => ({ SWEU_LOG: "warn" }),
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

/** Send `sig` to the verb's pid, or to its whole process group (the verb was spawned as its leader). */
function send(p: CliProc, sig: NodeJS.Signals, to: "pid" | "group"): void {
  if (to === "pid") p.proc.kill(sig);
  else process.kill(-p.pid, sig);
}

describe("SIGINT and SIGTERM to each long-running verb, to its pid and to its process group", () => {
  for (const v of VERBS)
    for (const to of ["pid", "group"] as const)
      for (const [sig, code] of [
        ["SIGINT", v.codes?.[0] ?? 130],
        ["SIGTERM", v.codes?.[1] ?? 143],
      ] as const) {
        it(`${v.name}: ${sig} to its ${to} → exit ${code} within 10 s, no child, no container left`, async () => {
          const p = spawnCli(v.argv(), v.env?.(), { detached: to === "group" });
          procs.push(p);
          if (v.ready) await p.waitFor(v.ready, 120_000);
          await v.engage?.(p);
          const kids = v.ready ? descendants(p.pid) : await busy(p, v.busy);
          if (v.busy) expect(kids.length).toBeGreaterThan(0);
          const t0 = Date.now();
          send(p, sig, to);
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
