import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProbe } from "../../src/checks/load.ts";
import { gradeEvaluation } from "../../src/harness/grade.ts";
import { parserFor } from "../../src/harness/parse-run.ts";
import { runStateRaw, toStateRun } from "../../src/harness/run-state.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { buildProbeImage, probeScript } from "../helpers/probe-image.ts";

/**
 * The load probe on real containers: a test with a wall-clock budget passes at full speed and fails under
 * a CPU quota, as it would when the reward is computed on a busy node; an honest test passes both ways.
 */
const sandbox = createSandbox("auto");
const image = "localhost/sweu-test-load-probe:latest";
const task = { patch: "", test_patch: "" };
const parse = parserFor("tap");

/**
 * TAP output: `steady` always passes; `fast_enough` spins a busy loop and passes only when its wall time
 * is under 4× the CPU time it used (a quota of 0.1 CPU makes it ~10×; contention on a shared host rarely
 * reaches 4× for long).
 */
const timed = probeScript(
  [
    "echo 'TAP version 13'",
    "echo 'ok 1 - steady'",
    "cpu() { read -ra f < /proc/$$/stat; echo $(( (f[13] + f[14]) * 10 )); }",
    "c0=$(cpu); t0=$(date +%s%N)",
    "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done",
    "c1=$(cpu); t1=$(date +%s%N)",
    "wall=$(( (t1 - t0) / 1000000 )); used=$(( c1 - c0 + 10 ))",
    'echo "# wall ${wall}ms, cpu ${used}ms" >&2',
    "echo '1..2'",
    // The body's last status is the run's (probeScript prints the end marker after it, as evaluation.sh does).
    'if [ $wall -le $(( used * 4 )) ]; then echo "ok 2 - fast_enough"; else echo "not ok 2 - fast_enough"; false; fi',
  ].join("\n"),
);
const steady = probeScript(["echo 'TAP version 13'", "echo 'ok 1 - steady'", "echo '1..1'"].join("\n"));
const lists = { FAIL_TO_PASS: ["fast_enough"], PASS_TO_PASS: ["steady"] };
const opts = (evaluationScript: string) => ({
  sandbox,
  image,
  evaluationScript,
  parse,
  cpus: 0.1,
  timeoutMs: 120_000,
});

beforeAll(() => buildProbeImage(sandbox, image), 600_000);
afterAll(async () => {
  await sandbox.removeImage(image).catch(() => {});
  await sandbox.cleanup();
});

describe("load probe", () => {
  it("drops a test with a time budget that fails only under a CPU quota, and keeps the instance", async () => {
    const full = await runStateRaw(sandbox, {
      image,
      testPatch: "",
      evaluationScript: timed,
      timeoutMs: 120_000,
    });
    const mixed = { FAIL_TO_PASS: ["steady"], PASS_TO_PASS: ["fast_enough"] };
    expect(gradeEvaluation(mixed, toStateRun("resolved", full, parse))).toMatchObject({ resolved: true });
    const r = await loadProbe(task, mixed, opts(timed));
    expect(r.verdict).toMatchObject({ check: "load-probe", kind: "dynamic", passed: true });
    expect(r.verdict.reasons[0]).toMatch(
      /does not resolve under a 0.1 CPU quota .*1 test\(s\) fail only under load .*: fast_enough; 1 fail-to-pass left/,
    );
    expect(r.loadFlaky).toEqual(["fast_enough"]);
    expect(r.lists).toEqual({ FAIL_TO_PASS: ["steady"], PASS_TO_PASS: [] });
    // The harness then grades the kept lists, and the load-flaky test's failure alone does not count.
    const loaded = await runStateRaw(sandbox, {
      image,
      testPatch: "",
      evaluationScript: timed,
      timeoutMs: 120_000,
      limits: { cpus: 0.1 },
    });
    const run = toStateRun("resolved", loaded, parse);
    expect(run.exit_code).not.toBe(0);
    expect(gradeEvaluation(r.lists, run)).toMatchObject({ resolved: false });
    const kept = { ...r.lists, validation: { load_flaky: r.loadFlaky } };
    expect(gradeEvaluation(kept, run)).toMatchObject({
      resolved: true,
      detail: expect.stringMatching(/from load-flaky tests only: fast_enough/),
    });
  }, 300_000);

  it("rejects the instance when every fail-to-pass test fails under the quota", async () => {
    const r = await loadProbe(task, lists, opts(timed));
    expect(r.verdict).toMatchObject({ check: "load-probe", kind: "dynamic", passed: false });
    expect(r.verdict.reasons[0]).toMatch(
      /does not resolve under a 0.1 CPU quota .*every fail-to-pass test fails under load: fast_enough/,
    );
  }, 300_000);

  it("passes a suite without time budgets, and calls a run that times out under the quota inconclusive", async () => {
    const ok = await loadProbe(task, { FAIL_TO_PASS: ["steady"], PASS_TO_PASS: [] }, opts(steady));
    expect(ok.verdict).toMatchObject({ passed: true });
    expect(ok.loadFlaky).toEqual([]);
    expect(ok.verdict.reasons[0]).toMatch(/gold resolves under a 0.1 CPU quota/);
    const slow = await loadProbe(task, lists, { ...opts(probeScript("sleep 30")), timeoutMs: 2_000 });
    expect(slow.verdict).toMatchObject({ passed: true });
    expect(slow.verdict.reasons[0]).toMatch(/inconclusive: timed out after 2s/);
  }, 300_000);
});
