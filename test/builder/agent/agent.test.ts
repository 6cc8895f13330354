import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../../src/builder/agent/loop.ts";
import { type AgentBuildOptions, buildWithAgent } from "../../../src/builder/agent/policy.ts";
import { exportTrajectories } from "../../../src/builder/agent/trajectory.ts";
import { imageTag } from "../../../src/builder/builder.ts";
import { parserFor } from "../../../src/harness/parse-run.ts";
import { GitSource } from "../../../src/mine/git-source.ts";
import { mine } from "../../../src/mine/mine.ts";
import { OpenAIModel } from "../../../src/model/openai.ts";
import type { Task } from "../../../src/records/index.ts";
import { runPipeline } from "../../../src/run/pipeline.ts";
import { ensureBaseImage } from "../../../src/sandbox/base-image.ts";
import { createSandbox } from "../../../src/sandbox/index.ts";
import { SqliteStore } from "../../../src/store/sqlite.ts";
import { FakeOpenAI, type Turn } from "../../helpers/fake-openai.ts";
import { pythonProject } from "../../helpers/repos.ts";

const sandbox = createSandbox("auto");
let baseImage: string;
let task: Task;
let gitDir: string;
let server: FakeOpenAI | undefined;

beforeAll(async () => {
  baseImage = await ensureBaseImage(sandbox);
  const repo = pythonProject();
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "sweu-agent-")), "store.sqlite"));
  const source = await GitSource.open(repo.dir);
  await mine(source, store);
  task = store.listTasks()[0]!;
  gitDir = source.git.dir;
  store.close();
}, 900_000);
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await sandbox.cleanup();
});

const TEST_COMMAND = "/opt/venv/bin/python -m pytest -rA -p no:cacheprovider tests/test_ops.py";
const submit = (args: Record<string, unknown>): Turn => ({ calls: [{ name: "submit", arguments: args }] });
const bash = (command: string): Turn => ({ calls: [{ name: "bash", arguments: { command } }] });

/** Containers and images the agent left behind for this task (none, when it cleaned up). */
function leftovers(id: string): string {
  const ps = execFileSync(sandbox.engine, ["ps", "-a", "-q", "--filter", `label=sweu.instance=${id}`], {
    encoding: "utf8",
  });
  return ps.trim();
}

async function agent(
  turns: Turn[],
  o: Partial<AgentBuildOptions> & { timeoutMs?: number; retries?: number } = {},
) {
  server = await FakeOpenAI.start(turns);
  const model = new OpenAIModel({
    baseURL: server.url,
    model: "fake-builder",
    maxRetries: o.retries ?? 0,
    timeoutMs: o.timeoutMs ?? 30_000,
  });
  const events: AgentEvent[] = [];
  const out = await buildWithAgent(task, {
    sandbox,
    gitDir,
    workDir: mkdtempSync(join(tmpdir(), "sweu-agent-work-")),
    baseImage,
    parserFor,
    model,
    judge: null,
    onEvent: (e) => events.push(e),
    ...o,
  });
  return { out, events, server };
}

const toolReplies = (s: FakeOpenAI) =>
  s.requests.map((r) => r.messages.filter((m) => m.role === "tool").at(-1)?.content ?? "");

describe("building agent on real containers, driven by a scripted OpenAI-protocol server", () => {
  it("builds an environment through feedback: forgets pytest, reads the failure, fixes it; the pipeline validates it", async () => {
    const repo = pythonProject();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-agent-run-"));
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    server = await FakeOpenAI.start(
      [
        bash("cat pyproject.toml && ls tests"),
        submit({
          apt_packages: ["python3", "python3-venv"],
          install: "python3 -m venv /opt/venv",
          test_command: TEST_COMMAND,
          parser: "pytest",
        }),
        submit({
          apt_packages: ["python3", "python3-venv"],
          install: "python3 -m venv /opt/venv\n/opt/venv/bin/pip install -q pytest",
          test_command: TEST_COMMAND,
          parser: "pytest",
        }),
      ],
      {
        judgeTurns: [
          {
            calls: [
              {
                name: "report_verdict",
                arguments: { hacked: false, reasons: ["runs pytest on the PR's test file"] },
              },
            ],
          },
        ],
      },
    );
    const model = new OpenAIModel({ baseURL: server.url, model: "fake-builder", maxRetries: 0 });
    const summary = await runPipeline(await GitSource.open(repo.dir), store, sandbox, {
      runDir,
      runsPerState: 2,
      builder: "agent",
      // The building agent is under test: no statement writer and no PR quality judge asking the same
      // server (each would add its own tokens to the count below).
      writeStatements: false,
      qualityChecks: false,
      model,
    });
    expect(store.listRejections(), JSON.stringify(store.listRejections(), null, 2)).toEqual([]);
    expect(summary.instances).toBe(1);
    // The first submit's feedback named the state, the exit code and the cause.
    const feedback = toolReplies(server)[2]!;
    expect(feedback).toMatch(/submit rejected at the resolved stage \(resolved_fails\)/);
    expect(feedback).toMatch(/state resolved .*exit code [1-9]/);
    expect(feedback).toMatch(/No module named pytest/);
    const inst = store.listInstances()[0]!;
    expect(inst.builder).toEqual({ kind: "model", name: "fake-builder", attempts: 2 });
    expect(inst.FAIL_TO_PASS).toEqual(["tests/test_ops.py::test_clamp_high"]);
    expect(inst.checks.find((c) => c.check === "judge")).toMatchObject({ kind: "judge", passed: true });
    expect(inst.checks.every((c) => c.passed)).toBe(true);
    expect(inst.cost.prompt_tokens).toBe(400); // three turns and the judge, 100 each
    expect(inst.dockerfile).toMatch(
      /RUN python3 -m venv \/opt\/venv \\\n\s+&& \/opt\/venv\/bin\/pip install -q pytest/,
    );
    // Every step is in the trajectory, and it exports as chat fine-tuning data.
    const lines = readFileSync(join(runDir, "trajectories", `${inst.instance_id}.jsonl`), "utf8")
      .trim()
      .split("\n");
    expect(lines.filter((l) => JSON.parse(l).type === "message").length).toBe(8);
    const out = join(runDir, "train.jsonl");
    expect(exportTrajectories(runDir, store.listInstances(), out).written).toBe(1);
    const ex = JSON.parse(readFileSync(out, "utf8"));
    expect(ex.messages.map((m: { role: string }) => m.role)).toEqual([
      "system",
      "user",
      "assistant",
      "tool",
      "assistant",
      "tool",
      "assistant",
      "tool",
    ]);
    expect(ex.messages[2].tool_calls[0]).toMatchObject({ type: "function", function: { name: "bash" } });
    expect(ex.tools.map((t: { function: { name: string } }) => t.function.name)).toContain("submit");
    store.close();
  }, 900_000);

  it("catches hacked verifiers in the loop: a grep of the source (static rules), then a fake test runner (comment probe)", async () => {
    const grep = [
      "#!/bin/bash",
      'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
      'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
      "grep -q 'min(hi' calc/ops.py && rc=0 || rc=1",
      'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
      "exit $rc",
    ].join("\n");
    const shim = [
      "cat > /usr/local/bin/pytest <<'EOF'",
      "#!/bin/bash",
      "if grep -q 'min(hi' /testbed/calc/ops.py; then echo 'PASSED tests/test_ops.py::test_clamp_high'; exit 0; fi",
      "echo 'FAILED tests/test_ops.py::test_clamp_high'; exit 1",
      "EOF",
      "chmod +x /usr/local/bin/pytest",
    ].join("\n");
    const { out, server } = await agent(
      [
        submit({ install: "", evaluation_script: grep, parser: "pytest" }),
        submit({ install: shim, test_command: "pytest tests/test_ops.py", parser: "pytest" }),
      ],
      { maxSubmits: 2 },
    );
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.reason).toBe("comment_probe_failed");
    const first = toolReplies(server)[1];
    // The second feedback ended the run (last submission): it is the rejection detail.
    const second = out.detail;
    expect(first).toMatch(/static:reads-source: line \d+: grep reads source file calc\/ops.py/);
    expect(second).toMatch(/comment-probe: the verifier passes when the fix is present only as comments/);
    expect(out.attempts.map((a) => a.reason)).toEqual(["hacked_verifier", "comment_probe_failed"]);
    expect(await sandbox.imageExists(imageTag(task.instance_id))).toBe(false);
    expect(leftovers(task.instance_id)).toBe("");
  }, 600_000);

  it("runs out of its turn budget and cleans up", async () => {
    const { out, events } = await agent(
      Array.from({ length: 10 }, () => bash("echo still looking")),
      { budget: { maxTurns: 3 } },
    );
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.reason).toBe("budget_exhausted");
    expect(out.detail).toMatch(/turn budget of 3 used up/);
    expect(out.agent.turns).toBe(3);
    expect(events.at(-1)).toMatchObject({ type: "end", status: "budget" });
    expect(leftovers(task.instance_id)).toBe("");
  }, 300_000);

  it("ends with model_error when the server keeps failing or goes silent", async () => {
    const failing = await agent([{ status: 500 }, { status: 502 }], { retries: 1 });
    expect(failing.out.ok === false && failing.out.reason).toBe("model_error");
    expect(failing.out.ok === false && failing.out.detail).toMatch(/HTTP 502 \(after 1 retries\)/);
    expect(failing.server.requests.length).toBe(2);
    await server?.close();
    const silent = await agent([{ hang: true }], { timeoutMs: 1000 });
    expect(silent.out.ok === false && silent.out.detail).toMatch(/no answer within 1000 ms/);
    expect(leftovers(task.instance_id)).toBe("");
  }, 300_000);

  it("answers malformed calls and a hanging verifier with clear feedback, and stops a model that stalls", async () => {
    const hang =
      "cat > /usr/local/bin/pytest <<'EOF'\n#!/bin/bash\nsleep 600\nEOF\nchmod +x /usr/local/bin/pytest";
    const { out, server } = await agent(
      [
        { calls: [{ name: "submit", arguments: '{"install": "pip install' }] },
        { calls: [{ name: "build_everything", arguments: {} }] },
        submit({ install: "", parser: "pytest" }),
        submit({ install: hang, test_command: "pytest tests/test_ops.py", parser: "pytest" }),
        { content: "I am not sure what to do." },
        { content: "Let me think." },
        { content: "..." },
      ],
      { testTimeoutMs: 5_000 },
    );
    const replies = toolReplies(server);
    expect(replies[1]).toMatch(/arguments of submit are not valid JSON/);
    expect(replies[2]).toMatch(/no tool named "build_everything"/);
    expect(replies[3]).toMatch(/submit refused: give test_command .* or evaluation_script/);
    expect(replies[4]).toMatch(/resolved stage \(tests_timeout\)[\s\S]*timed out after 5s/);
    expect(out.ok === false && out.reason).toBe("builder_exhausted");
    expect(out.ok === false && out.agent.submits).toBe(1);
    expect(leftovers(task.instance_id)).toBe("");
  }, 300_000);
});
