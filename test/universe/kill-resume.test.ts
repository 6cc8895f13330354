import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { readRepos } from "../../src/store/universe.ts";
import { prsRepo } from "./helpers.ts";

const SCRIPT = join(import.meta.dirname, "fixtures", "stand-in-universe.ts");

function start(
  runDir: string,
  dirs: string[],
  ms: number,
): { p: ChildProcess; out: () => string; done: Promise<number | null> } {
  const p = spawn(process.execPath, [SCRIPT, runDir, String(ms), ...dirs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  p.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  return { p, out: () => out, done: new Promise((r) => p.once("exit", (code) => r(code))) };
}

function outcome(runDir: string) {
  const s = new SqliteStore(join(runDir, "store.sqlite"));
  try {
    return {
      candidates: s
        .listCandidates()
        .map((c) => c.id)
        .sort(),
      instances: s
        .listInstances()
        .map((i) => i.instance_id)
        .sort(),
      rejections: s
        .listRejections()
        .map((r) => r.id)
        .sort(),
      repos: readRepos(s).map((r) => [r.name, r.status, r.stopped ?? ""]),
    };
  } finally {
    s.close();
  }
}

describe("kill -9 of a universe run, then the same command again", () => {
  it("finishes the same run: the same candidates (the PR budget is not spent again), builds within budget, nothing twice", async () => {
    const dirs = [prsRepo(7).dir, prsRepo(5).dir, prsRepo(2).dir];
    const runDir = mkdtempSync(join(tmpdir(), "sweu-ukill-"));
    const a = start(runDir, dirs, 400);
    for (const t0 = Date.now(); (a.out().match(/^end /gm) ?? []).length < 3; ) {
      if (Date.now() - t0 > 60_000) throw new Error(`no progress: ${a.out()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    a.p.kill("SIGKILL");
    await a.done;
    const mid = outcome(runDir);
    expect(mid.instances.length + mid.rejections.length).toBeGreaterThanOrEqual(3);
    expect(mid.instances.length + mid.rejections.length).toBeLessThan(8);
    const b = start(runDir, dirs, 50);
    expect(await b.done).toBe(0);
    const again = start(runDir, dirs, 50);
    expect(await again.done).toBe(0);
    expect(again.out()).toMatch(/^built 0$/m);
    const clean = mkdtempSync(join(tmpdir(), "sweu-uclean-"));
    const c = start(clean, dirs, 10);
    expect(await c.done).toBe(0);
    const got = outcome(runDir);
    const want = outcome(clean);
    expect(got).toEqual(want);
    // 4 + 4 + 2 candidates; 3 + 3 + 2 built; the two large ones stopped by their build budget.
    expect(got.candidates).toHaveLength(10);
    expect(got.instances.length + got.rejections.length).toBe(8);
    expect(got.repos).toEqual([
      ["acme/r0", "done", "builds"],
      ["acme/r1", "done", "builds"],
      ["acme/r2", "done", ""],
    ]);
  }, 180_000);
});
