import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MemoryQueue } from "../../src/queue/memory.ts";
import type { BuildJobData } from "../../src/run/jobs.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { readInfra, readNotes, readRepos } from "../../src/store/universe.ts";
import { recordListing, runUniverse, type UniverseEvent } from "../../src/universe/universe.ts";
import { InfraError } from "../../src/util/causes.ts";
import { prsRepo, standInResult } from "./helpers.ts";

const noSandbox = {} as Sandbox; // the queue is given: nothing here touches a sandbox

function setup(repos: { name: string; n: number }[]) {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-uni-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const made = repos.map((r) => ({ ...r, dir: prsRepo(r.n).dir }));
  recordListing(store, {
    repos: made.map((r, i) => ({ name: r.name, from: `list:${i + 1}`, input: r.name, location: r.dir })),
    notes: [],
  });
  return { runDir, store, made };
}

describe("a universe run (in-process queue, stand-in build jobs)", () => {
  it("mines within the PR budget, builds within the build budget in fair turns, and a rerun does nothing more", async () => {
    const { runDir, store } = setup([
      { name: "acme/big", n: 12 },
      { name: "acme/small", n: 2 },
    ]);
    const order: string[] = [];
    const queue = new MemoryQueue({
      handlers: {
        "build-task": async (d) => {
          order.push((d as BuildJobData).task.instance_id);
          return standInResult(d);
        },
      },
    });
    const o = { runDir, budgets: { prs: 8, builds: 5 }, queue };
    const s = await runUniverse(store, noSandbox, o);
    expect(s.built).toBe(7); // 5 of big's 8 mined, both of small's
    expect(store.listCandidates("acme/big")).toHaveLength(8);
    // Newest first in each repository; once mined, the small one gets every other turn.
    expect(order[0]).toMatch(/-(12|2)$/);
    const smallAt = order.map((id, i) => (id.startsWith("acme__small") ? i : -1)).filter((i) => i >= 0);
    expect(smallAt[1]! - smallAt[0]!).toBeLessThanOrEqual(2);
    expect(order.filter((id) => id.startsWith("acme__big"))).toEqual(
      ["12", "11", "10", "9", "8"].map((n) => `acme__big-${n}`),
    );
    const repos = readRepos(store);
    expect(repos.map((r) => [r.name, r.status, r.stopped])).toEqual([
      ["acme/big", "done", "builds"],
      ["acme/small", "done", undefined],
    ]);
    expect(store.repoCounts().find((c) => c.repo === "acme/big")).toMatchObject({
      pending: 3,
      instances: 2,
      failed: 3,
    });
    const again = await runUniverse(store, noSandbox, o);
    expect(again.built).toBe(0);
    expect(store.listCandidates("acme/big")).toHaveLength(8);
    // A larger budget is a new budget: the difference is mined and built.
    const more = await runUniverse(store, noSandbox, { ...o, budgets: { prs: 10, builds: 6 } });
    expect(more.built).toBe(1);
    expect(store.listCandidates("acme/big")).toHaveLength(10);
    store.close();
  });

  it("a broken source is named once and its tasks stay pending; an engine failure pauses the run and the task is built after", async () => {
    const { runDir, store } = setup([
      { name: "acme/broken", n: 3 },
      { name: "acme/ok", n: 3 },
    ]);
    let engineDown = true;
    const queue = new MemoryQueue({
      handlers: {
        "build-task": async (d) => {
          const t = (d as BuildJobData).task;
          if (t.repo === "acme/broken")
            throw new InfraError(
              "the source repository of acme/broken is broken: unable to read 1234abcd",
              "source",
            );
          if (t.number === 2 && engineDown) {
            engineDown = false;
            throw new InfraError("podman run failed (exit 125): cannot connect", "engine");
          }
          return standInResult(d);
        },
      },
    });
    const events: UniverseEvent[] = [];
    const s = await runUniverse(store, noSandbox, {
      runDir,
      budgets: {},
      queue,
      engineBackoffMs: 50,
      onEvent: (e) => events.push(e),
    });
    expect(s.built).toBe(3);
    const infra = events.filter((e) => e.type === "infra");
    expect(infra.map((e) => e.type === "infra" && e.kind).sort()).toEqual(["engine", "source"]);
    expect(events.some((e) => e.type === "paused" && /container engine failed/.test(e.why))).toBe(true);
    expect(events.some((e) => e.type === "resumed")).toBe(true);
    // Nothing of the broken repository was rejected: its three tasks wait for the next run.
    expect(store.listRejections("acme/broken")).toEqual([]);
    expect(store.repoCounts().find((c) => c.repo === "acme/broken")?.pending).toBe(3);
    expect(readRepos(store).find((r) => r.name === "acme/broken")).toMatchObject({ status: "input_error" });
    expect(readNotes(store).filter((n) => n.kind === "broken")).toHaveLength(1);
    expect(readInfra(store).map((i) => [i.kind, i.count])).toEqual([
      ["engine", 1],
      ["source", 1],
    ]);
    store.close();
  });

  it("an unreachable or missing repository is named and the others go on", async () => {
    const { runDir, store } = setup([{ name: "acme/ok", n: 1 }]);
    recordListing(store, {
      repos: [
        {
          name: "acme/gone",
          from: "list:2",
          input: "acme/gone",
          location: "file:///nonexistent/acme/gone.git",
        },
      ],
      notes: [],
    });
    const queue = new MemoryQueue({ handlers: { "build-task": async (d) => standInResult(d) } });
    const s = await runUniverse(store, noSandbox, { runDir, budgets: {}, queue });
    expect(s.instances).toBe(1);
    expect(readRepos(store).find((r) => r.name === "acme/gone")).toMatchObject({ status: "input_error" });
    expect(readNotes(store).map((n) => [n.repo, n.kind])).toEqual([["acme/gone", "not_found"]]);
    store.close();
  });
});
