import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { pythonProjectManyPrs } from "../helpers/repos.ts";

const sandbox = createSandbox("auto");
afterAll(() => sandbox.cleanup());

function reuseOf(runDir: string, id: string): string | undefined {
  const lines = readFileSync(join(runDir, "trajectories", `${id}.jsonl`), "utf8")
    .trim()
    .split("\n");
  const done = lines.map((l) => JSON.parse(l)).find((a) => a.stage === "done");
  return /\((\w+)\)$/.exec(done?.detail ?? "")?.[1];
}

describe("environment reuse", () => {
  it("shares one environment between PRs with the same manifests and updates the nearest one otherwise", async () => {
    const repo = pythonProjectManyPrs();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-reuse-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const source = await GitSource.open(repo.dir);
    const summary = await runPipeline(source, store, sandbox, { runDir, runsPerState: 1, skipProbes: true });
    expect(store.listRejections()).toEqual([]);
    expect(summary.instances).toBe(4);
    const byNumber = Object.fromEntries(
      store.listInstances().map((i) => [i.instance_id.split("-").pop(), i]),
    );
    // #21 and #22 have the same manifests: one environment; #23 adds a dependency: another.
    expect(byNumber["21"]!.environment_key).toBe(byNumber["22"]!.environment_key);
    expect(byNumber["23"]!.environment_key).not.toBe(byNumber["21"]!.environment_key);
    expect(store.listEnvironments()).toHaveLength(3);
    // Tasks run oldest first: #21 builds the environment, #22 reuses it, #23 updates it.
    const id = (n: number) => `${source.repo.replace("/", "__")}-${n}`;
    expect([reuseOf(runDir, id(21)), reuseOf(runDir, id(22)), reuseOf(runDir, id(23))]).toEqual([
      "full",
      "exact",
      "nearest",
    ]);
    // Only the full build was made from the Dockerfile the instance records; the others say so.
    expect([21, 22, 23].map((n) => byNumber[String(n)]!.validation.image_rebuilt)).toEqual([
      true,
      false,
      false,
    ]);
    // Each instance image holds its own commit's source, not the environment's.
    for (const [n, expected] of [
      ["21", "return s.upper() + '!'"],
      ["23", "'-'.join(s.lower().split())"],
    ] as const) {
      const inst = byNumber[n]!;
      const c = await sandbox.start({ image: inst.image });
      try {
        const r = await c.exec(
          "cd /testbed && git rev-parse HEAD && git status --porcelain --untracked-files=no && cat textops/ops.py",
        );
        expect(r.output).toContain(inst.base_commit);
        expect(r.output).not.toContain(expected);
      } finally {
        await c.remove();
      }
    }
    store.close();
  }, 1_500_000);
});
