/**
 * The rollout service on real containers, over one tiny instance built by the pipeline (pythonProject:
 * clamp ignores its upper bound; FAIL_TO_PASS tests/test_ops.py::test_clamp_high). One build for the
 * whole file; each test starts its own sessions on one in-process server, and the many-machines test
 * runs two `serve` processes (the CLI) registered in a real redis-server and kills them with -9.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Instance } from "../../src/records/index.ts";
import { ServeClient, ServeError, type Session, SessionLostError } from "../../src/serve/client.ts";
import { httpJson } from "../../src/serve/http.ts";
import { type Service, startService } from "../../src/serve/service.ts";
import { consumerPython } from "../helpers/consumers.ts";
import { e2eSandbox, runRepo } from "../helpers/e2e-run.ts";
import { pythonProject } from "../helpers/repos.ts";
import { type RedisServer, startRedis } from "../queue/redis.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const sandbox = e2eSandbox();
const TOKEN = `tok-${randomBytes(8).toString("hex")}`;
const BUG = "    return max(lo, x)";
const FIX = "    return min(hi, max(lo, x))";
const F2P = "tests/test_ops.py::test_clamp_high";
const UPLOAD_CAP = 256 * 1024;

let inst: Instance;
let dataset: string;
let service: Service;
let client: ServeClient;
const children: ChildProcess[] = [];
let redis: RedisServer | undefined;

beforeAll(async () => {
  // The service needs an instance, not a second look at its validation: one run per state, no probes.
  const { runDir, store, summary } = await runRepo(sandbox, pythonProject().dir, {
    runsPerState: 1,
    skipProbes: true,
  });
  expect(summary.instances).toBe(1);
  inst = store.listInstances()[0]!;
  store.close();
  dataset = join(runDir, "dataset.jsonl");
  service = await startService({
    datasets: [dataset],
    sandbox,
    token: TOKEN,
    config: {
      limits: { memory: "1g", pids: 512, lifetimeS: 900, idleS: 600, execTimeoutS: 120 },
      outputCapBytes: 16 * 1024,
      maxFileBytes: 64 * 1024,
      maxUploadBytes: UPLOAD_CAP,
      warm: { perSpec: 1, max: 4 },
    },
  });
  client = new ServeClient({ url: service.url, token: TOKEN });
}, 1_500_000);

afterAll(async () => {
  // A child killed by a signal has exitCode null and signalCode set: only those still running are waited for.
  const left = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of left) c.kill("SIGKILL");
  await Promise.all(left.map((c) => new Promise((r) => c.once("exit", r))));
  await sandbox.reapOrphans(); // what a serve process killed here left
  await service?.close();
  await redis?.stop();
});

/** Containers of one serve process (by the node label every session and pool container carries). */
function containersOf(node: string): string[] {
  const r = spawnSync(
    sandbox.engine,
    ["ps", "-a", "--filter", `label=sweu.serve.node=${node}`, "--format", "{{.Names}}"],
    { encoding: "utf8" },
  );
  return r.stdout.split("\n").filter(Boolean);
}

async function expectError(
  p: Promise<unknown>,
  status: number,
  code: string,
  says: RegExp,
): Promise<ServeError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, `expected ${status} ${code}`).toBeInstanceOf(ServeError);
  const se = e as ServeError;
  expect([se.status, se.code], se.message).toEqual([status, code]);
  expect(se.message).toMatch(says);
  return se;
}

describe("serve: sessions on real containers", () => {
  it("lists tasks without their patches and publishes an OpenAPI description", async () => {
    const list = await client.tasks();
    expect(list.total).toBe(1);
    expect(list.tasks[0]).toMatchObject({ instance_id: inst.instance_id, language: "python" });
    const detail = await client.task(inst.instance_id);
    expect(detail.problem_statement).toBe(inst.problem_statement);
    expect(JSON.stringify(detail)).not.toContain("min(hi, max(lo, x))");
    const api = await httpJson(`${service.url}/openapi.json`, { method: "GET" });
    const paths = Object.keys((api.body as { paths: Record<string, unknown> }).paths);
    expect(paths).toEqual(
      expect.arrayContaining(["/v1/sessions", "/v1/sessions/{id}/exec", "/v1/sessions/{id}/submit"]),
    );
  });

  it("runs commands, writes the fix and submits → reward 1; untouched → 0", async () => {
    const s = await client.start(inst.instance_id);
    expect(s.info).toMatchObject({
      workdir: "/testbed",
      network: false,
      limits: { memory: "1g", pids: 512 },
    });
    const ls = await s.exec(
      "git status --porcelain && ls calc && python3 -c 'import calc; print(calc.clamp(50, 0, 10))'",
    );
    expect(ls).toMatchObject({ exit_code: 0, timed_out: false, oom_killed: false, truncated: false });
    expect(ls.output).toContain("ops.py");
    expect(ls.output.trim().split("\n").pop()).toBe("50");
    // No network in a session unless the server allows it.
    const net = await s.exec(
      "python3 -c \"import urllib.request; urllib.request.urlopen('http://deb.debian.org', timeout=3)\"",
    );
    expect(net.exit_code).not.toBe(0);
    const file = await s.readFile("calc/ops.py");
    expect(file.content).toContain(BUG);
    await s.writeFile("calc/ops.py", file.content.replace(BUG, FIX));
    const d = await s.diff();
    expect(d.files).toEqual(["calc/ops.py"]);
    expect(d.diff).toContain(`+${FIX}`);
    const won = await s.submit();
    expect(won).toMatchObject({ reward: 1, resolved: true, patch_source: "container" });
    expect(won.report.tests_status.FAIL_TO_PASS.success).toEqual([F2P]);
    expect(won.report.tests_status.PASS_TO_PASS.failure).toEqual([]);
    await s.close();

    const t = await client.start(inst.instance_id);
    const lost = await t.submit();
    expect(lost).toMatchObject({ reward: 0, resolved: false, patch: "" });
    expect(lost.report.tests_status.FAIL_TO_PASS.failure).toEqual([F2P]);
    // A patch in the request is graded instead of the container's diff: the gold patch resolves.
    const gold = await t.submit(inst.patch);
    expect(gold).toMatchObject({ reward: 1, patch_source: "request" });
    await t.close();
  }, 300_000);

  it("times out a command that hangs, kills what it started, and the session goes on", async () => {
    const s = await client.start(inst.instance_id);
    const t0 = Date.now();
    const r = await s.exec("sleep 300 & sleep 301; echo never", { timeout_s: 2 });
    expect(r.timed_out).toBe(true);
    expect(r.output).not.toContain("never");
    expect(Date.now() - t0).toBeLessThan(30_000);
    const procs = "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done";
    const after = await s.exec(`${procs} | grep -c '^sleep 30[01]' || true; echo alive`);
    expect(after.output.trim().split("\n")).toEqual(["0", "alive"]);
    await s.close();
  }, 120_000);

  it("kills a command that fills memory, says so, and the session goes on", async () => {
    const s = await client.start(inst.instance_id, { memory: "128m" });
    expect(s.info.warm).toBe(false);
    const r = await s.exec('python3 -c "x = bytearray(1024 * 1024 * 1024); print(len(x))"');
    expect(r).toMatchObject({ oom_killed: true, exit_code: 137, timed_out: false });
    const small = await s.exec('python3 -c "print(len(bytearray(1024)))"');
    expect(small).toMatchObject({ exit_code: 0, oom_killed: false });
    expect(small.output.trim()).toBe("1024");
    await s.close();
  }, 120_000);

  it("reaps idle sessions and removes their containers", async () => {
    const s = await client.start(inst.instance_id, { idle_timeout_s: 1 });
    const id = service.manager.get(s.id).container.id;
    const exists = () =>
      spawnSync(sandbox.engine, ["container", "inspect", id], { stdio: "ignore" }).status === 0;
    expect(exists()).toBe(true);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(exists()).toBe(false);
    const e = await expectError(s.exec("true"), 410, "session_closed", /reaped after 1 s without a request/);
    expect(e).toBeInstanceOf(SessionLostError);
    expect(service.manager.list().map((x) => x.session_id)).not.toContain(s.id);
  }, 120_000);

  it("keeps two concurrent sessions on one image apart", async () => {
    const [a, b] = await Promise.all([client.start(inst.instance_id), client.start(inst.instance_id)]);
    await a.writeFile("secret.txt", "only a\n");
    await a.exec("echo a > /tmp/scratch && echo changed >> README.md");
    const seen = await b.exec("cat /testbed/secret.txt /tmp/scratch 2>&1; git status --porcelain");
    expect(seen.output).toContain("No such file");
    expect(seen.output).not.toContain("only a");
    expect((await b.diff()).diff).toBe("");
    await expectError(b.readFile("secret.txt"), 404, "file_not_found", /no file \/testbed\/secret.txt/);
    expect((await a.diff()).files.sort()).toEqual(["README.md", "secret.txt"]);
    await Promise.all([a.close(), b.close()]);
  }, 120_000);

  it("refuses requests without the token", async () => {
    const none = await httpJson(`${service.url}/v1/tasks`, { method: "GET" });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: "unauthorized", message: expect.stringContaining("Bearer") });
    const wrong = new ServeClient({ url: service.url, token: "not-it" });
    await expectError(wrong.start(inst.instance_id), 401, "unauthorized", /not this server's/);
    expect((await httpJson(`${service.url}/v1/health`, { method: "GET" })).status).toBe(200);
  });
});

describe("serve: bad input gets a 4xx with a clear message, and the service goes on", () => {
  let s: Session;
  beforeAll(async () => {
    s = await client.start(inst.instance_id);
  }, 120_000);

  it("an unknown instance, malformed JSON, unknown fields", async () => {
    await expectError(
      client.start("acme__nothing-1"),
      404,
      "unknown_instance",
      /no instance "acme__nothing-1"/,
    );
    const raw = await httpJson(`${service.url}/v1/sessions/${s.id}/exec`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    });
    expect(raw.status).toBe(400);
    const bad = await rawPost(`/v1/sessions/${s.id}/exec`, '{"command": "ls",');
    expect([bad.status, (bad.body as { error: string }).error]).toEqual([400, "invalid_json"]);
    await expectError(
      s.exec("ls", { timeout: 5 } as never),
      400,
      "bad_request",
      /must NOT have additional properties/,
    );
    await expectError(
      client.request("POST", "/v1/sessions", { instance_id: 7 }),
      400,
      "bad_request",
      /instance_id/,
    );
  });

  it("a patch that does not apply", async () => {
    // Neither side of the hunk is in the file: `patch --batch` (the harness's last resort, as SWE-bench's)
    // applies a patch whose + side is already there in reverse, as if -R were given.
    const patch =
      "diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,2 +1,2 @@\n-def nothing_like_this(a, b):\n+def nor_this(a, b):\n     return a + b\n";
    const e = await expectError(s.submit(patch), 422, "patch_does_not_apply", /does not apply/);
    expect((e.body as { apply_log: string }).apply_log).toMatch(/patch|error/i);
    expect((await s.exec("echo still here")).output.trim()).toBe("still here");
  }, 120_000);

  it("path traversal in file paths", async () => {
    await expectError(s.readFile("../../etc/passwd"), 400, "path_outside_workspace", /outside \/testbed/);
    await expectError(
      s.writeFile("/etc/cron.d/x", "x"),
      400,
      "path_outside_workspace",
      /resolves to \/etc\/cron.d\/x/,
    );
    await expectError(s.writeFile("calc/../../root/x", "x"), 400, "path_outside_workspace", /outside/);
    await expectError(s.exec("pwd", { cwd: "../.." }), 400, "path_outside_workspace", /outside/);
    const inside = await s.readFile("/testbed/calc/../calc/ops.py");
    expect(inside.path).toBe("/testbed/calc/ops.py");
  });

  it("oversized output and uploads", async () => {
    const big = await s.exec("head -c 10000000 /dev/zero | tr '\\0' a; echo; echo THE-END");
    expect(big.truncated).toBe(true);
    expect(big.exit_code).toBe(0);
    expect(big.output.length).toBeLessThan(16 * 1024 + 200);
    expect(big.output).toContain("output truncated");
    expect(big.output.trim().endsWith("THE-END")).toBe(true);
    await s.exec("head -c 200000 /dev/urandom > blob.bin");
    await expectError(
      s.readFile("blob.bin"),
      413,
      "output_too_large",
      /200000 bytes, over the 65536-byte limit/,
    );
    await expectError(
      s.writeFile("up.bin", Buffer.alloc(UPLOAD_CAP + 1)),
      413,
      "payload_too_large",
      /over the 262144-byte limit/,
    );
    const huge = await rawPost(
      `/v1/sessions/${s.id}/files`,
      JSON.stringify({ path: "x", content: "a".repeat(2 * UPLOAD_CAP + 70_000) }),
      "PUT",
    );
    expect([huge.status, (huge.body as { error: string }).error]).toEqual([413, "payload_too_large"]);
    const bin = await s.writeFile("small.bin", Buffer.from([0, 255, 1, 254]));
    expect(bin.size).toBe(4);
    expect(await s.readFile("small.bin")).toMatchObject({ encoding: "base64", content: "AP8B/g==" });
  }, 120_000);

  it("commands after close", async () => {
    await s.close();
    await expectError(s.exec("ls"), 410, "session_closed", /closed by the client/);
    await expectError(s.submit(), 410, "session_closed", /is closed/);
    await expectError(s.close(), 410, "session_closed", /is closed/);
    await expectError(
      client.request("POST", "/v1/sessions/n00000000.0000000000000000/exec", { command: "ls" }),
      503,
      "session_lost",
      /not reachable/,
    );
    expect((await client.health()).status).toBe("ok");
  });
});

function rawPost(path: string, text: string, method = "POST") {
  return new Promise<{ status: number; body: unknown }>((ok, fail) => {
    const u = new URL(`${service.url}${path}`);
    import("node:http").then(({ request }) => {
      const req = request(
        u,
        { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            ok({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") }),
          );
        },
      );
      req.on("error", fail);
      req.end(text);
    }, fail);
  });
}

describe("serve: an existing client (SWE-ReX's RemoteRuntime) drives a session", () => {
  it("bash sessions keep cwd and exports, exceptions come back as SWE-ReX's, the fix it writes is rewarded", async () => {
    const s = await client.start(inst.instance_id);
    const dir = mkdtempSync(join(tmpdir(), "sweu-swerex-"));
    const spec = {
      host: `${service.url}/v1/sessions/${s.id}/swerex`,
      token: TOKEN,
      out: join(dir, "out.json"),
      path: "/testbed/calc/ops.py",
      find: BUG,
      replace: FIX,
    };
    writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
    // Not spawnSync: the service answers from this process's event loop.
    const py = await new Promise<{ status: number | null; stderr: string }>((done) => {
      const p = spawn(
        consumerPython(),
        [join(ROOT, "test/consumers/swerex_client.py"), join(dir, "spec.json")],
        {
          stdio: ["ignore", "ignore", "pipe"],
          timeout: 150_000,
        },
      );
      let stderr = "";
      p.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      p.on("close", (status) => done({ status, stderr }));
    });
    expect(py.status, py.stderr).toBe(0);
    const out = JSON.parse(readFileSync(spec.out, "utf8"));
    expect(out).toMatchObject({
      alive: true,
      exit_code: 0,
      nonzero: "NonZeroExitCodeError",
      timeout: "CommandTimeoutError",
      found: true,
      execute: { stdout: "10\n", exit_code: 0 },
    });
    expect(out.state.trim().split("\n")).toEqual(["/testbed/calc", "hello"]);
    expect(await s.submit()).toMatchObject({ reward: 1 });
    await s.close();
  }, 240_000);
});

/** A `serve` process started through the CLI; resolves once it prints where it listens. */
async function serveProcess(args: string[]): Promise<{ proc: ChildProcess; url: string; node: string }> {
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, "src/cli/main.ts"),
      "serve",
      "--dataset",
      dataset,
      "--port",
      "0",
      "--token",
      TOKEN,
      "--warm",
      "0",
      ...args,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(proc);
  let err = "";
  proc.stderr?.on("data", (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((ok, fail) => {
    let out = "";
    proc.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) ok({ proc, ...JSON.parse(line) });
    });
    proc.once("exit", (code) => fail(new Error(`serve exited (${code}): ${err}`)));
  });
}

describe("serve: many processes, one service (Redis)", () => {
  it("pins sessions to their process; kill -9 loses only that process's sessions, as errors; a restart leaves no containers", async () => {
    redis = await startRedis();
    const cluster = ["--redis", redis.url, "--redis-prefix", `t${randomBytes(3).toString("hex")}`];
    const a = await serveProcess(cluster);
    const b = await serveProcess(cluster);
    const viaA = new ServeClient({ url: a.url, token: TOKEN });
    expect((await viaA.nodes()).map((n) => n.node).sort()).toEqual([a.node, b.node].sort());
    // The least loaded process takes a new session: first this one, then the other.
    const s1 = await viaA.start(inst.instance_id);
    const s2 = await viaA.start(inst.instance_id);
    expect([s1.info.node, s2.info.node]).toEqual([a.node, b.node]);
    expect((await s2.exec("echo via-a")).output.trim()).toBe("via-a");
    await s2.writeFile("calc/ops.py", (await s2.readFile("calc/ops.py")).content.replace(BUG, FIX));
    expect(containersOf(b.node).length).toBe(1);

    const inflight = s2.exec("sleep 60");
    await new Promise((r) => setTimeout(r, 1_000));
    b.proc.kill("SIGKILL");
    await expectError(inflight, 503, "session_lost", /does not answer/);
    await expect(s2.submit()).rejects.toBeInstanceOf(SessionLostError);
    expect((await s1.exec("echo a-lives")).output.trim()).toBe("a-lives");
    expect(containersOf(b.node).length).toBe(1); // kill -9 removed nothing

    const b2 = await serveProcess(cluster);
    expect(containersOf(b.node)).toEqual([]);
    await expect(s2.exec("true")).rejects.toBeInstanceOf(SessionLostError);
    const s3 = await viaA.start(inst.instance_id);
    expect(s3.info.node).toBe(b2.node);

    // Killed while the client talks to it directly: an error, never a reward; its restart reaps its containers.
    const pending = s1.exec("sleep 60");
    await new Promise((r) => setTimeout(r, 1_000));
    a.proc.kill("SIGKILL");
    await expectError(pending, 0, "unreachable", /did not answer/);
    await expectError(s1.submit(), 0, "unreachable", /did not answer/);
    expect(containersOf(a.node).length).toBe(1);
    const a2 = await serveProcess(cluster);
    expect(containersOf(a.node)).toEqual([]);
    const viaA2 = new ServeClient({ url: a2.url, token: TOKEN });
    await expectError(
      viaA2.session(s1.info).exec("true"),
      503,
      "session_lost",
      /stopped or died|does not answer/,
    );
    await viaA2.session(s3.info).close();
    for (const p of [a2.proc, b2.proc]) p.kill("SIGTERM");
    await Promise.all(
      [a2, b2].map(
        (x) =>
          new Promise((r) =>
            x.proc.exitCode === null && x.proc.signalCode === null ? x.proc.once("exit", r) : r(null),
          ),
      ),
    );
    expect([...containersOf(a2.node), ...containersOf(b2.node)]).toEqual([]);
  }, 300_000);
});
