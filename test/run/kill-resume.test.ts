import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { detectEngine } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { pythonProject } from "../helpers/repos.ts";
import { type CliProc, spawnCli } from "../queue/cli.ts";

/** pythonProject (one PR that validates) plus `n` docs-only squash PRs (rejected at split), via fast-import. */
function repoWithManyPrs(n: number): string {
  const r = pythonProject();
  const head = r.git("rev-parse", "HEAD");
  let stream = "";
  for (let i = 0; i < n; i++) {
    const msg = `Update note ${i} (#${100 + i})\n\nDocs only.\n`;
    const body = `note ${i}\n`;
    stream += `commit refs/heads/main\ncommitter Dev <dev@example.com> ${1_800_000_000 + i * 60} +0000\n`;
    stream += `data ${Buffer.byteLength(msg)}\n${msg}`;
    if (i === 0) stream += `from ${head}\n`;
    stream += `M 100644 inline docs/note-${i}.md\ndata ${Buffer.byteLength(body)}\n${body}\n`;
  }
  execFileSync("git", ["fast-import", "--quiet"], { cwd: r.dir, input: stream });
  execFileSync("git", ["reset", "-q", "--hard", "main"], { cwd: r.dir });
  return r.dir;
}

const DOCS_PRS = 300;
const repo = repoWithManyPrs(DOCS_PRS);
const engine = detectEngine();
const procs: CliProc[] = [];
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
});

function run(runDir: string): CliProc {
  const p = spawnCli(["run", repo, "--run-dir", runDir, "--skip-probes", "--runs", "1", "--no-progress"]);
  procs.push(p);
  return p;
}

/** A build log written after `since` that ends in a tagged image. */
function freshBuildDone(runDir: string, since: number): boolean {
  const work = join(runDir, "work");
  if (!existsSync(work)) return false;
  for (const task of readdirSync(work))
    for (const f of readdirSync(join(work, task)).filter((f) => /^build-\d+\.log$/.test(f))) {
      const path = join(work, task, f);
      if (statSync(path).mtimeMs >= since && /Successfully tagged/.test(readFileSync(path, "utf8")))
        return true;
    }
  return false;
}

function count(runDir: string, sql: string): number {
  const path = join(runDir, "store.sqlite");
  if (!existsSync(path)) return 0;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

async function until(cond: () => boolean, what: string, p: CliProc, timeoutMs = 600_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (p.proc.exitCode !== null) throw new Error(`run exited before ${what}:\n${p.err().slice(-3000)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function kill(p: CliProc): Promise<void> {
  p.proc.kill("SIGKILL");
  await p.exited;
}

function containersOf(pid: number): string[] {
  const r = spawnSync(engine, ["ps", "-a", "--filter", "label=sweu.session", "--format", "{{.Names}}"], {
    encoding: "utf8",
  });
  return r.stdout.split("\n").filter((n) => n.startsWith(`sweu-${pid}-`));
}

function outcomes(runDir: string) {
  const s = new SqliteStore(join(runDir, "store.sqlite"));
  try {
    return {
      candidates: s.listCandidates().map((c) => c.id),
      instances: s.listInstances().map((i) => i.instance_id),
      rejections: s.listRejections().map((r) => `${r.id} ${r.stage} ${r.reason}`),
    };
  } finally {
    s.close();
  }
}

const CANDIDATES = "SELECT COUNT(*) AS n FROM records WHERE kind = 'candidate'";

describe("kill -9 of `swe-universe run` at any moment, then the same command again", () => {
  it("finishes with the same instances and rejections as an uninterrupted run, nothing twice", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "sweu-kill-"));
    const total = DOCS_PRS + 1;

    // 1. During mining.
    const a = run(runDir);
    await until(() => count(runDir, CANDIDATES) >= 10, "mining", a);
    await kill(a);
    const minedBefore = count(runDir, CANDIDATES);
    expect(minedBefore).toBeLessThan(total);

    // 2. During the build of the one buildable task.
    const b = run(runDir);
    await b.waitFor(/\[1\/1\] /, 300_000);
    expect(b.err()).toMatch(new RegExp(`${minedBefore} already done`));
    await until(() => existsSync(join(runDir, "work")), "the build", b);
    await new Promise((r) => setTimeout(r, 3000));
    await kill(b);
    expect(count(runDir, CANDIDATES)).toBe(total);
    expect(outcomes(runDir).instances).toEqual([]);

    // 3. During validation: the image is built (a fresh build log says so) and test containers are running.
    const since = Date.now();
    const c = run(runDir);
    await until(() => freshBuildDone(runDir, since), "the built image", c, 1_200_000);
    await until(() => containersOf(c.pid).length > 0, "validation containers", c, 600_000);
    await kill(c);
    expect(outcomes(runDir).instances).toEqual([]);
    const leftBehind = containersOf(c.pid);
    expect(leftBehind.length).toBeGreaterThan(0); // SIGKILL removes nothing

    // 4. To the end.
    const d = run(runDir);
    expect(await d.exited, d.err().slice(-3000)).toBe(0);
    expect(d.err()).toMatch(new RegExp(`0 new tasks, 0 rejected, ${total} already done`));
    expect(d.err().match(/\[1\/1\] /g)?.length).toBe(1); // the interrupted task is redone once
    for (const p of [a, b, c]) expect(containersOf(p.pid)).toEqual([]);
    expect(containersOf(c.pid)).toEqual([]); // reaped at the next start

    // A rerun after completion does nothing.
    const e = run(runDir);
    expect(await e.exited).toBe(0);
    expect(e.err()).not.toMatch(/\[1\/1\] /);

    // The same outcome as an uninterrupted run.
    const cleanDir = mkdtempSync(join(tmpdir(), "sweu-clean-"));
    const f = run(cleanDir);
    expect(await f.exited, f.err().slice(-3000)).toBe(0);
    const got = outcomes(runDir);
    const want = outcomes(cleanDir);
    expect(got.instances).toEqual(want.instances);
    expect(got.instances.length).toBe(1);
    expect(got.rejections).toEqual(want.rejections);
    expect(got.candidates).toEqual(want.candidates);
    expect(new Set(got.candidates).size).toBe(total);
    // Each candidate ends exactly one way.
    const ended = [...got.instances, ...got.rejections.map((r) => r.split(" ")[0])];
    expect(new Set(ended).size).toBe(ended.length);
    expect(ended.length).toBe(total);
  }, 3_600_000);
});
