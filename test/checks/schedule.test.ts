/**
 * How the validate gate schedules its container runs (src/checks/gate.ts runGate, state-runs.ts, lanes.ts),
 * on a scripted sandbox that starts no container (test/helpers/scripted-sandbox.ts): the same verdicts,
 * runs and lists with one lane and with several; a run that rejects the instance ends the rest; the load
 * probe's run under its quota starts beside the state runs and anything but a clean pass there is decided
 * alone; a run that fails only beside others is run again alone and does not reject.
 */
import { describe, expect, it } from "vitest";
import { evidence, GATES, runGate } from "../../src/checks/gate.ts";
import type { Evidence } from "../../src/checks/types.ts";
import { Lanes } from "../../src/util/pool.ts";
import {
  type Script,
  type ScriptedRun,
  ScriptedSandbox,
  scriptedParser,
} from "../helpers/scripted-sandbox.ts";

const gold =
  "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+this_line_is_long_enough_to_look_for = 2\n";
const testPatch = "diff --git a/t.py b/t.py\n--- a/t.py\n+++ b/t.py\n@@ -1 +1 @@\n-a\n+b\n";

/** An honest verifier: test_new fails without the fix and passes with it; test_old always passes. */
const honest = (r: ScriptedRun) =>
  r.kind === "resolved"
    ? { exit: 0, lines: ["ok test_new", "ok test_old"] }
    : r.kind === "no-tests"
      ? { exit: 4, lines: [] }
      : { exit: 1, lines: ["not ok test_new", "ok test_old"] };

function fresh(): Evidence {
  return evidence({
    task: { instance_id: "o__r-1", patch: gold, test_patch: testPatch, code_files: ["m.py"] },
    testFiles: ["t.py"],
    evaluationScript: "#!/bin/bash\npytest t.py\n",
    parser: "scripted",
    image: "img",
  });
}

async function gate(script: Script, lanes: number) {
  const sb = new ScriptedSandbox(script);
  const e = fresh();
  const t = Date.now();
  const g = await runGate(GATES.validate, e, {
    sandbox: sb,
    parserFor: () => scriptedParser,
    runsPerState: 3,
    testTimeoutMs: 60_000,
    loadProbeCpus: 0.25,
    lanes,
  });
  return { g, e, sb, ms: Date.now() - t };
}

const summary = (x: Awaited<ReturnType<typeof gate>>) => ({
  failure: x.g.failure?.reason,
  verdicts: x.g.verdicts.map((v) => [v.check, v.passed, v.reasons]),
  runs: x.e.runs.map((r) => [r.state, r.exit_code, r.tests]),
  lists: x.e.lists,
});

describe("validate gate scheduling", () => {
  it("gives the same verdicts, runs and lists with 1 lane and with 3, and runs 3 at once", async () => {
    const seq = await gate({ tests: honest, ms: 40 }, 1);
    const par = await gate({ tests: honest, ms: 40 }, 3);
    expect(seq.g.failure).toBeUndefined();
    expect(summary(par)).toEqual(summary(seq));
    expect(seq.sb.maxLive).toBe(1);
    // 3 lanes of state runs and probes, and the load probe's container beside them (it holds no lane).
    expect(par.sb.maxLive).toBe(4);
    // 6 state runs, the leak search, comment, no-tests and load probes: 10 containers either way.
    expect(seq.sb.started).toBe(10);
    expect(par.sb.started).toBe(10);
    expect(par.sb.live).toBe(0);
    expect(par.ms).toBeLessThan(seq.ms * 0.7);
  });

  it("starts the load probe's run under the quota beside the state runs, holding no lane; its clean pass stands", async () => {
    const seq = await gate({ tests: honest, ms: 30 }, 1);
    const par = await gate({ tests: honest, ms: 30 }, 3);
    const load = par.sb.runs.filter((r) => r.cpus === 0.25);
    expect(load).toHaveLength(1);
    // It ran beside other containers (the state runs), and 3 lanes still held 3 state runs at once.
    expect(load[0]!.live).toBeGreaterThan(1);
    expect(par.sb.maxLive).toBeGreaterThanOrEqual(4);
    expect(summary(par)).toEqual(summary(seq));
  });

  it("decides a load probe that does not pass beside the others by a run alone, as a sequential gate does", async () => {
    // Under the quota, beside other containers, the tests fail (the node is busier than the quota says);
    // alone they pass: the verdict is the lone run's, and it is the sequential gate's.
    const script: Script = {
      tests: (r) =>
        r.cpus && r.live > 1 ? { exit: 1, lines: ["not ok test_new", "ok test_old"] } : honest(r),
      ms: 30,
    };
    const seq = await gate(script, 1);
    const par = await gate(script, 3);
    const load = par.sb.runs.filter((r) => r.cpus === 0.25);
    expect(load.map((r) => r.live > 1)).toEqual([true, false]);
    expect(seq.sb.runs.filter((r) => r.cpus === 0.25)).toHaveLength(1);
    expect(par.g.failure).toBeUndefined();
    expect(summary(par)).toEqual(summary(seq));
    // A load probe that fails alone too rejects the instance either way.
    const timed: Script = {
      tests: (r) => (r.cpus ? { exit: 1, lines: ["not ok test_new", "ok test_old"] } : honest(r)),
      ms: 30,
    };
    const seq2 = await gate(timed, 1);
    const par2 = await gate(timed, 3);
    expect(seq2.g.failure?.reason).toBe("timing_dependent");
    expect(summary(par2)).toEqual(summary(seq2));
  });

  it("ends the remaining runs when a buggy run passes, with the reason a full run gives", async () => {
    for (const lanes of [1, 3]) {
      const script: Script = {
        tests: (r) => (r.kind === "buggy" ? { exit: 0, lines: ["ok test_new"] } : honest(r)),
        ms: 40,
      };
      const x = await gate(script, lanes);
      expect(x.g.failure?.reason).toBe("buggy_passes");
      expect(x.g.failure?.check).toBe("state-runs");
      // Sequentially the first buggy run stops it; in parallel the lanes' other runs are stopped at once.
      // (The load probe's run under its quota, started beside them in parallel, is stopped with them.)
      const stateRuns = x.sb.runs.filter((r) => (r.kind === "buggy" || r.kind === "resolved") && !r.cpus);
      expect(stateRuns.length).toBeLessThanOrEqual(lanes);
      expect(x.g.verdicts.map((v) => v.check)).toEqual(expect.arrayContaining(["static:no-runner"]));
      expect(x.g.verdicts.some((v) => v.check.endsWith("probe"))).toBe(false);
      expect(x.sb.live).toBe(0);
    }
  });

  it("ends the remaining runs when a resolved run fails, and the probes beside them", async () => {
    const script: Script = {
      tests: (r) => (r.kind === "resolved" ? { exit: 1, lines: ["not ok test_new"] } : honest(r)),
      ms: 40,
    };
    const seq = await gate(script, 1);
    const par = await gate(script, 3);
    expect(seq.g.failure?.reason).toBe("resolved_fails");
    expect(par.g.failure?.reason).toBe("resolved_fails");
    expect(par.g.verdicts).toEqual(seq.g.verdicts);
    // Sequential: 3 buggy runs and the first resolved one; nothing after it.
    expect(seq.sb.started).toBe(4);
    expect(par.sb.live).toBe(0);
  });

  it("runs a resolved run that failed only beside other containers again alone: slower, not rejected", async () => {
    // The machine runs out of something when 2 or more containers run: the resolved tests fail then.
    const script: Script = {
      tests: (r) => (r.kind === "resolved" && r.live > 1 ? { exit: 137, lines: [] } : honest(r)),
      ms: 30,
    };
    const par = await gate(script, 3);
    const seq = await gate(script, 1);
    expect(seq.g.failure).toBeUndefined();
    expect(par.g.failure).toBeUndefined();
    expect(summary(par)).toEqual(summary(seq));
  });
});

describe("lanes", () => {
  it("serves lower priority numbers first and gives an exclusive holder every lane", async () => {
    const lanes = new Lanes(2);
    const order: string[] = [];
    const a = await lanes.acquire();
    const b = await lanes.acquire();
    const waits = [
      lanes.acquire({ priority: 1 }).then((r) => {
        order.push("probe");
        return r;
      }),
      lanes.acquire({ priority: 1, exclusive: true }).then((r) => {
        order.push("exclusive");
        return r;
      }),
      lanes.acquire({ priority: 0 }).then((r) => {
        order.push("state");
        return r;
      }),
    ];
    a();
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(["state"]);
    b();
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(["state", "probe"]);
    expect(lanes.inUse).toBe(2);
    (await waits[2]!)();
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(["state", "probe"]);
    (await waits[0]!)();
    const exclusive = await waits[1]!;
    expect(order).toEqual(["state", "probe", "exclusive"]);
    expect(lanes.inUse).toBe(2);
    exclusive();
    expect(lanes.inUse).toBe(0);
  });

  it("lets a holder of weight 0 through at once while every lane is held and others wait", async () => {
    const lanes = new Lanes(1);
    const held = await lanes.acquire();
    let waited = false;
    const queued = lanes.acquire().then((r) => {
      waited = true;
      return r;
    });
    const free = await lanes.acquire({ priority: 1, weight: 0 });
    expect(lanes.inUse).toBe(1);
    free();
    free();
    expect(lanes.inUse).toBe(1);
    expect(waited).toBe(false);
    held();
    (await queued)();
    expect(lanes.inUse).toBe(0);
  });
});
