import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CORPUS } from "./bad-input/corpus.ts";
import { cli, type Fixtures, makeFixtures, manyPrs, newCtx, snapshot } from "./bad-input/harness.ts";

/**
 * The bad-input corpus (issue 12): every case runs the real CLI on real git repositories and a real run
 * folder, and asserts its exit code, that what it says is one plain line (no stack trace), that the run
 * folder records what it recorded before, and that nothing was written outside the case's folder.
 */
let fx: Fixtures;
const jails: string[] = [];
beforeAll(async () => {
  fx = await makeFixtures();
}, 120_000);
afterAll(() => {
  for (const j of jails) rmSync(j, { recursive: true, force: true });
});

describe.concurrent("bad input never crashes, loses work, hangs or escapes its folder", () => {
  it("holds at least 100 cases over every verb", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(100);
    const verbs = new Set(CORPUS.map((c) => c.verb));
    for (const v of [
      "mine",
      "build",
      "validate",
      "export",
      "evaluate",
      "run",
      "report",
      "push",
      "worker",
      "check-verifier",
      "trajectories",
      "universe",
      "merge",
      "synth",
      "serve",
    ])
      expect(verbs, v).toContain(v);
    const names = CORPUS.map((c) => `${c.verb} ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const k of CORPUS) {
    it(`${k.kind}: ${k.verb} ${k.name} → exit ${k.code}`, async () => {
      const c = newCtx(fx);
      jails.push(c.jail);
      try {
        await k.setup?.(c);
        const before = snapshot(c.run);
        const r = await cli(k.argv(c), {
          cwd: c.dir,
          env: k.env,
          onStderr: k.onStderr && ((t) => k.onStderr?.(c, t)),
        });
        const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
        const why = `${r.stderr}\n${r.stdout.slice(0, 2000)}`;
        expect(r.code, why).toBe(k.code);
        expect(lines.length, why).toBe(k.lines ?? (k.code >= 2 ? 1 : lines.length));
        if (lines.length > 0) expect(lines[lines.length - 1], why).toMatch(k.message);
        expect(r.stderr, why).not.toMatch(/^\s+at |internal error|Error: /m);
        if (!k.changes) expect(snapshot(c.run)).toBe(before);
        await k.check?.(c, r);
        expect(readdirSync(c.jail)).toEqual(["case"]);
      } finally {
        for (const u of c.undo.reverse()) u();
      }
    }, 60_000);
  }
});

describe("two `mine` processes on one run folder", () => {
  it("do not both do the work: the second waits for the first (naming its pid), then finds it done", async () => {
    const c = newCtx(fx);
    jails.push(c.jail);
    const repo = manyPrs(1500);
    const runDir = join(c.dir, "shared-run");
    const [a, b] = await Promise.all([
      cli(["mine", repo, "--run-dir", runDir, "--json"], { cwd: c.dir }),
      new Promise((r) => setTimeout(r, 300)).then(() =>
        cli(["mine", repo, "--run-dir", runDir, "--json"], { cwd: c.dir }),
      ),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const runs = [a, b].map((r) => JSON.parse(r.stdout).this_run as { listed: number; skipped: number });
    // Every candidate was listed exactly once, by one of the two (the root commit has no base: 1499).
    expect(runs[0]!.listed + runs[1]!.listed).toBe(1499);
    expect(Math.min(runs[0]!.listed, runs[1]!.listed)).toBe(0);
    expect(`${a.stderr}${b.stderr}`).toMatch(/waiting for pid \d+ \(mine, since /);
  }, 120_000);
});
