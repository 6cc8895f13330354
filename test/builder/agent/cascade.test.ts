import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportTrajectories } from "../../../src/builder/agent/trajectory.ts";
import { buildTask } from "../../../src/builder/policies.ts";
import { parserFor } from "../../../src/harness/parse-run.ts";
import { GitSource } from "../../../src/mine/git-source.ts";
import { OpenAIModel } from "../../../src/model/openai.ts";
import { type PipelineOptions, runPipeline } from "../../../src/run/pipeline.ts";
import { ensureBaseImage } from "../../../src/sandbox/base-image.ts";
import { createSandbox } from "../../../src/sandbox/index.ts";
import { SqliteStore } from "../../../src/store/sqlite.ts";
import { goldAndEmpty } from "../../helpers/e2e-run.ts";
import {
  byPullRequest,
  type ChatRequest,
  call,
  FakeOpenAI,
  judgeVerdict,
  pullRequestOf,
  type Turn,
  toolReplies,
} from "../../helpers/fake-openai.ts";
import { pythonProjectNeedingJq, pythonProjectWithoutTests } from "../../helpers/repos.ts";

/**
 * The cascade end to end, on real containers, with the model replaced by a scripted server speaking the
 * OpenAI protocol: PRs without tests (the agent writes them), a PR the recipes cannot build (the agent
 * can), and task faults (the agent is never asked). The two scenarios run at the same time: they wait on
 * containers more than on the CPU.
 */
const sandbox = createSandbox("auto");
const servers: FakeOpenAI[] = [];

/** A scripted server and the model that talks to it. */
async function scripted(turns: Turn[], judgeTurns: Turn[] = []) {
  const server = await FakeOpenAI.start(turns, { judgeTurns });
  servers.push(server);
  return { server, model: new OpenAIModel({ baseURL: server.url, model: "fake-builder", maxRetries: 0 }) };
}

/** A run directory and store for a test repository, and pipeline runs in it with the cascade builder. */
async function openRun(repoDir: string) {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-cascade-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  const source = await GitSource.open(repoDir);
  return {
    runDir,
    store,
    source,
    id: (n: number) => `${source.repo.replace("/", "__")}-${n}`,
    run: (o: Partial<PipelineOptions>) =>
      runPipeline(source, store, sandbox, { runDir, runsPerState: 1, builder: "cascade", ...o }),
  };
}

// Debian's pytest: no install step after the repository is copied in, so each submit's image is the
// cached apt layer plus the repository.
const PYTHON = { apt_packages: ["python3", "python3-pytest"], install: "", parser: "pytest" };
const pytest = (file: string) => `python3 -m pytest -rA -p no:cacheprovider ${file}`;
const forPr = (reqs: readonly ChatRequest[], n: number) => reqs.filter((r) => pullRequestOf(r) === n);
const trajectory = (runDir: string, id: string): Record<string, unknown>[] =>
  readFileSync(join(runDir, "trajectories", `${id}.jsonl`), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

const CLAMP_TEST = "from calc import clamp\n\n\ndef test_clamp_high():\n    assert clamp(50, 0, 10) == 10\n";
// Passes with and without the fix: it does not exercise the change.
const WEAK_TEST = "from calc import add\n\n\ndef test_add_again():\n    assert add(1, 1) == 2\n";
const SHOW_STATE = "grep -c 'min(hi' calc/ops.py; cat tests/test_clamp_high.py";

/** Two PRs without tests: the agent writes a good test for #1, a test that passes on the bug for #2 and gives up. */
async function unitTestCreator() {
  const { server, model } = await scripted(
    byPullRequest({
      1: [
        call("bash", { command: "cat calc/ops.py; git status --short" }),
        call("write_file", { path: "tests/test_clamp_high.py", content: CLAMP_TEST }),
        call("switch_to_resolved"),
        call("bash", { command: SHOW_STATE }),
        call("switch_to_bug"),
        call("bash", { command: SHOW_STATE }),
        call("submit", { ...PYTHON, test_command: pytest("tests/test_clamp_high.py") }),
        call("submit", {
          ...PYTHON,
          test_command: pytest("tests/test_clamp_high.py"),
          test_files: ["/testbed/tests/test_clamp_high.py"],
        }),
      ],
      2: [
        call("write_file", { path: "tests/test_sub.py", content: WEAK_TEST }),
        call("submit", {
          ...PYTHON,
          test_command: pytest("tests/test_sub.py"),
          test_files: ["tests/test_sub.py"],
        }),
        // then plain text until the loop gives up
      ],
    }),
    [judgeVerdict(false, ["runs pytest on the generated test file"])],
  );
  const r = await openRun(pythonProjectWithoutTests().dir);
  const summary = await r.run({ model });
  return { ...r, server, summary };
}

/** PR #2 needs the network (a task fault), PR #1 needs jq (the recipe fails, the agent builds it). */
async function cascade() {
  const r = await openRun(pythonProjectNeedingJq().dir);
  const silent = await scripted([]);
  const network = await r.run({ only: [r.id(2)], model: silent.model, testTimeoutMs: 60_000 });
  const agent = await scripted(
    [
      call("bash", { command: "cat README.md; ls tests" }),
      call("submit", {
        ...PYTHON,
        apt_packages: ["jq", "python3", "python3-pytest"],
        test_command: pytest("tests/test_query.py"),
      }),
    ],
    [judgeVerdict(false, ["runs pytest on the PR's test file"])],
  );
  // The probes ran in the agent's loop already; validation here checks the runs.
  let jqStarted = 0;
  const jq = await r.run({
    only: [r.id(1)],
    model: agent.model,
    skipProbes: true,
    onEvent: (e) => {
      if (e.type === "task-start") jqStarted = Date.now();
    },
  });
  // The same task with a gold patch that does not apply to its base (under its own id: its own image tag).
  const task = r.store.getTask(r.id(1))!;
  const broken = {
    ...task,
    instance_id: `${task.instance_id}-broken`,
    patch: task.patch.replace(
      "-    return query(doc, expr)[0]",
      "-    return query(doc, expr)[0]  # a line the base never had",
    ),
  };
  const fault = await buildTask(broken, {
    builder: "cascade",
    model: silent.model,
    sandbox,
    gitDir: r.source.git.dir,
    workDir: mkdtempSync(join(tmpdir(), "sweu-cascade-work-")),
    baseImage: await ensureBaseImage(sandbox),
    parserFor,
  });
  return { ...r, silent: silent.server, agent: agent.server, network, jq, jqStarted, broken, task, fault };
}

let unit: ReturnType<typeof unitTestCreator>;
let casc: ReturnType<typeof cascade>;
beforeAll(async () => {
  await ensureBaseImage(sandbox);
  unit = unitTestCreator();
  casc = cascade();
  // The tests await them: a failure shows there, not as an unhandled rejection.
  unit.catch(() => {});
  casc.catch(() => {});
}, 900_000);
afterAll(async () => {
  const runs = await Promise.allSettled([unit, casc]);
  for (const r of runs) {
    if (r.status !== "fulfilled") continue;
    for (const i of r.value.store.listInstances()) await sandbox.removeImage(i.image).catch(() => {});
    r.value.store.close();
  }
  for (const s of servers) await s.close();
  await sandbox.cleanup();
}, 120_000);

describe("unit-test creator: PRs without tests get fail-to-pass tests written by the agent", () => {
  it("writes a test, checks it in both states, and the instance carries it apart from the PR's own", async () => {
    const r = await unit;
    expect(r.store.listTasks().map((t) => [t.number, t.needs_generated_tests])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(r.summary.instances, JSON.stringify(r.store.listRejections(), null, 2)).toBe(1);
    expect(r.store.listInstances().map((i) => i.instance_id)).toEqual([r.id(1)]);
    // The no_test_change rejection the miner wrote is gone: the task is an instance now.
    expect(r.store.getRejection(r.id(1))).toBeUndefined();
    expect(r.store.outcome(r.id(1))).toBe("instance");
    // The switches kept the agent's file and toggled only the fix.
    const replies = toolReplies(forPr(r.server.requests, 1));
    expect(replies[3]).toMatch(/now in the resolved state/);
    expect(replies[4]).toMatch(/^exit code 0\n1\nfrom calc import clamp/);
    expect(replies[6]).toMatch(/^exit code 0\n0\nfrom calc import clamp/);
    expect(replies[7]).toMatch(/submit refused: test_files: list the test files you wrote/);
    // The generated tests are the test patch the harness applies, and marked as generated.
    const inst = r.store.getInstance(r.id(1))!;
    const gen = inst.generated_test_patch!;
    expect(gen).toMatch(/^\+\+\+ b\/tests\/test_clamp_high\.py$/m);
    expect(gen).toContain("+    assert clamp(50, 0, 10) == 10");
    expect(inst.test_patch).toBe(gen);
    expect(r.store.getTask(r.id(1))!.test_patch).toBe("");
    expect(inst.patch).toBe(r.store.getTask(r.id(1))!.patch);
    expect(inst.patch).not.toContain("tests/");
    expect(inst.FAIL_TO_PASS).toEqual(["tests/test_clamp_high.py::test_clamp_high"]);
    expect(inst.builder).toEqual({ kind: "model", name: "fake-builder", attempts: 1 });
    expect(inst.checks.every((c) => c.passed)).toBe(true);
    expect(inst.checks.map((c) => c.check)).toEqual(
      expect.arrayContaining(["comment-probe", "no-tests-probe", "judge"]),
    );
    // The hacking probes ran once, in the agent's loop; validation did not repeat them. It adds its own
    // cross-check, load probe and leak probe.
    const names = inst.checks.map((c) => c.check);
    expect(names.filter((n) => n === "comment-probe" || n === "no-tests-probe")).toHaveLength(2);
    expect(names).toEqual(expect.arrayContaining(["exit-code-cross-check", "load-probe", "leak-probe"]));
    // Exported as any instance: test.patch holds the generated tests.
    expect(readFileSync(join(r.runDir, "instances", r.id(1), "test.patch"), "utf8")).toBe(gen);
    // Its trajectory is training data, with the test-writing tools.
    const out = join(r.runDir, "train.jsonl");
    expect(exportTrajectories(r.runDir, r.store.listInstances(), out).written).toBe(1);
    const submit = JSON.parse(readFileSync(out, "utf8")).tools.find(
      (t: { function: { name: string } }) => t.function.name === "submit",
    );
    expect(submit.function.parameters.required).toContain("test_files");
  }, 900_000);

  it("the gold patch resolves the generated tests under the evaluation harness, an empty patch does not", async () => {
    const r = await unit;
    const { gold, empty } = await goldAndEmpty(sandbox, r.store.getInstance(r.id(1))!);
    expect(gold.resolved, JSON.stringify(gold.sweu)).toBe(true);
    expect(gold.tests_status.FAIL_TO_PASS.success).toEqual(["tests/test_clamp_high.py::test_clamp_high"]);
    expect(empty.resolved).toBe(false);
    expect(empty.tests_status.FAIL_TO_PASS.failure).toEqual(["tests/test_clamp_high.py::test_clamp_high"]);
  }, 300_000);

  it("a test that passes without the fix is sent back as such; never fixed, the task is rejected by name", async () => {
    const r = await unit;
    const feedback = toolReplies(forPr(r.server.requests, 2))[2]!;
    expect(feedback).toMatch(/submit rejected at the buggy stage \(buggy_passes\)/);
    expect(feedback).toMatch(/must exit non-zero without the fix: the tests you run do not exercise the bug/);
    expect(feedback).toMatch(/tests\/test_sub\.py::test_add_again PASSED/);
    const rej = r.store.getRejection(r.id(2))!;
    expect(rej).toMatchObject({ stage: "build", reason: "builder_exhausted" });
    expect(rej.detail).toMatch(
      /three answers in a row without a tool call; last submission: .*\(buggy_passes\)/,
    );
    expect(r.store.getInstance(r.id(2))).toBeUndefined();
    expect(r.summary.rejected).toBe(1);
  });
});

describe("cascade: recipes first, the agent where they fail, never for a task fault", () => {
  it("a task fault (a test that needs the network) ends the task under the recipe: the model gets no request", async () => {
    const r = await casc;
    expect(r.network.rejected).toBe(1);
    expect(r.store.getRejection(r.id(2))).toMatchObject({ stage: "build", reason: "needs_network" });
    expect(r.silent.requests).toHaveLength(0);
    expect(r.silent.judgeRequests).toHaveLength(0);
  }, 900_000);

  it("the recipe fails for want of jq; the agent builds an instance that validates", async () => {
    const r = await casc;
    expect(r.jq.instances, JSON.stringify(r.store.listRejections(), null, 2)).toBe(1);
    // The recipe went first and failed with a named reason (its attempts are in the task's trajectory) …
    const steps = trajectory(r.runDir, r.id(1));
    const recipe = steps.findIndex((s) => s.plan === "python/pythonpath" && s.stage === "resolved");
    expect(steps[recipe]).toMatchObject({ ok: false, reason: "resolved_fails" });
    expect(steps[recipe]!.detail).toMatch(/No such file or directory: 'jq'/);
    // … then the agent, whose two turns the server answered (the requests with tools: the statement
    // writer's, after validation, have none).
    expect(steps.findIndex((s) => s.type === "message")).toBeGreaterThan(recipe);
    expect(r.agent.requests.filter((q) => q.tools?.length)).toHaveLength(2);
    // The agent starts from the recipe's failure.
    const first = r.agent.requests[0]!.messages.find((m) => m.role === "user")!.content;
    expect(first).toMatch(/What the automatic recipes tried, and why it failed[\s\S]*resolved_fails/);
    expect(first).toMatch(/No such file or directory: 'jq'/);
    const inst = r.store.getInstance(r.id(1))!;
    expect(inst.builder).toEqual({ kind: "model", name: "fake-builder", attempts: 1 });
    expect(inst.dockerfile).toMatch(/apt-get install .*\bjq\b/);
    expect(inst.FAIL_TO_PASS).toEqual(["tests/test_query.py::test_first_default"]);
    expect(inst.PASS_TO_PASS).toEqual(["tests/test_query.py::test_query"]);
    expect(inst.checks.every((c) => c.passed)).toBe(true);
    expect(inst.generated_test_patch).toBeUndefined();
    // Its build cost counts the recipe's tries too, not only the agent's run (which ended at `end`).
    const end = Date.parse(String(steps.find((s) => s.type === "end")!.at));
    // (The job's own set-up — the commit check, the clone's fetch — sits between the task's start and its
    // build: a few seconds on a loaded machine, less than the recipe's image build and failing run.)
    expect(inst.cost.build_ms).toBeGreaterThan(end - r.jqStarted - 5000);
  }, 900_000);

  it("a gold patch that does not apply is a task fault too: the cascade does not call the agent", async () => {
    const r = await casc;
    expect(r.broken.patch).not.toBe(r.task.patch);
    expect(r.fault.ok === false && r.fault.reason).toBe("patch_apply_failed");
    expect(r.fault.attempts.map((a) => a.plan)).toEqual(["python/pythonpath"]);
    expect(r.silent.requests).toHaveLength(0);
  }, 900_000);
});
