import { join } from "node:path";
import type { OutputParser } from "../../harness/run-state.ts";
import type { Model } from "../../model/model.ts";
import type { Built, ReasonCode, Task } from "../../records/index.ts";
import type { Container, Sandbox } from "../../sandbox/sandbox.ts";
import { imageTag } from "../builder.ts";
import { renderDockerfile } from "../dockerfile.ts";
import type { AgentCost, Attempt, BuildFailure, BuildOutcome, BuildSuccess } from "../outcome.ts";
import { repoView, sanitisedCheckout } from "../repo.ts";
import { stageSiteCas } from "../site.ts";
import { type AgentEvent, type Budget, runAgentLoop, type ToolResult, type Totals } from "./loop.ts";
import { SYSTEM_PROMPT, taskPrompt } from "./prompts.ts";
import { toolSpecs, Workspace } from "./tools.ts";
import { readSubmission, type VerifyContext, verifySubmission } from "./verify.ts";

export interface AgentBuildOptions {
  sandbox: Sandbox;
  gitDir: string;
  workDir: string;
  baseImage: string;
  parserFor: (name: string) => OutputParser;
  model: Model;
  /** Model for the in-loop judge (default: the same model); null turns the judge off. */
  judge?: Model | null;
  budget?: Partial<Budget>;
  /** Submissions verified before the agent gives up (default 3). */
  maxSubmits?: number;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  /** Run the dynamic probes inside the loop (default true). */
  probes?: boolean;
  /** What was tried before the agent (the cascade's recipes) and how it failed: a head start. */
  priorFailure?: string;
  signal?: AbortSignal;
  onEvent?: (e: AgentEvent) => void;
}

export type AgentBuildOutcome = (BuildSuccess | BuildFailure) & { agent: AgentCost };

const LOOP_REASON: Record<string, ReasonCode> = {
  budget: "budget_exhausted",
  model_error: "model_error",
  no_progress: "builder_exhausted",
  aborted: "internal_error",
};

/** What the tools share during one agent run. */
interface Session {
  task: Task;
  ws: Workspace;
  cost: AgentCost;
  attempts: Attempt[];
  generateTests: boolean;
  maxSubmits: number;
  verify: Omit<VerifyContext, "signal">;
  lastFailure?: { reason: ReasonCode; detail: string };
}

type Tool = (
  args: Record<string, unknown>,
  s: Session,
  signal: AbortSignal,
) => Promise<ToolResult<BuildSuccess>>;

/** The agent's tools, a table keyed by name (DESIGN §5); their specs are in tools.ts. */
const TOOLS: Record<string, Tool> = {
  bash: async (a, s) => ({ content: await s.ws.bash(String(a.command ?? ""), Number(a.timeout) || 300) }),
  read_file: async (a, s) => ({ content: await s.ws.readFile(String(a.path ?? "")) }),
  write_file: async (a, s) => ({
    content: await s.ws.writeFile(String(a.path ?? ""), String(a.content ?? "")),
  }),
  switch_to_bug: async (_a, s) => ({ content: await s.ws.switchTo("buggy") }),
  switch_to_resolved: async (_a, s) => ({ content: await s.ws.switchTo("resolved") }),
  submit: (a, s, signal) => submit(a, s, signal),
};

/** `submit`: verify the submission (the agent gate); done, feedback, or the end of the run. */
async function submit(
  a: Record<string, unknown>,
  s: Session,
  signal: AbortSignal,
): Promise<ToolResult<BuildSuccess>> {
  const sub = readSubmission(a, s.generateTests);
  if (typeof sub === "string") return { content: `submit refused: ${sub}` };
  s.cost.submits++;
  const t0 = Date.now();
  let task = s.task;
  let generated: string | undefined;
  if (s.generateTests) {
    generated = await s.ws.testPatchOf(sub.testFiles ?? []);
    if (!generated.trim())
      return { content: "submit refused: the test_files you listed show no change against the base commit" };
    task = { ...s.task, test_patch: generated, test_files: sub.testFiles ?? [] };
  }
  const v = await verifySubmission(task, sub, { ...s.verify, signal });
  s.cost.prompt_tokens += v.judgeUsage.prompt_tokens;
  s.cost.completion_tokens += v.judgeUsage.completion_tokens;
  s.cost.usd += v.judgeUsage.usd;
  const stage = v.ok ? "done" : v.stage === "build" ? "build" : v.stage === "buggy" ? "buggy" : "resolved";
  s.attempts.push({
    plan: `submit-${s.cost.submits}`,
    stage,
    ok: v.ok,
    reason: v.ok ? undefined : v.reason,
    detail: v.ok ? "" : v.feedback.slice(0, 4000),
    durationMs: Date.now() - t0,
  });
  if (v.ok) {
    const built: Built = {
      task,
      environment: v.environment,
      image: s.verify.tag,
      reuse: "off",
      dockerfile: v.dockerfile,
      evaluation_script: v.evaluationScript,
      parser: v.environment.parser,
      install_script: sub.install,
      runs: v.runs,
      // The judge's verdict and the probes it already ran on this very image and script.
      checks: v.checks.filter((c) => c.kind === "judge" || c.kind === "dynamic"),
      provenance: {
        kind: "model",
        name: s.cost.model,
        attempts: s.cost.submits,
        prompt_tokens: 0,
        completion_tokens: 0,
        usd: 0,
      },
      ...(generated ? { generated_test_patch: generated } : {}),
      build_ms: 0,
    };
    return {
      content:
        "Verified: the environment builds, the resolved state passes, the buggy state fails and no hacking check fired. Done.",
      done: { ok: true, built, attempts: s.attempts },
    };
  }
  s.lastFailure = { reason: v.reason, detail: v.feedback };
  if (v.fatal) return { content: v.feedback, stop: { reason: v.reason, detail: v.feedback } };
  if (s.cost.submits >= s.maxSubmits)
    return {
      content: `${v.feedback}\n\nThat was the last of ${s.maxSubmits} submissions.`,
      stop: { reason: v.reason, detail: v.feedback },
    };
  return { content: `${v.feedback}\n\n(${s.maxSubmits - s.cost.submits} submissions left.)` };
}

/** The agent's own container: the base image and the repository, nothing installed. */
async function workContainer(task: Task, o: AgentBuildOptions, contextDir: string, caDir?: string) {
  const workTag = `localhost/sweu.agent-work.${task.instance_id.toLowerCase().replace(/[^a-z0-9._-]/g, "_")}:latest`;
  const plan = {
    name: "agent-work",
    language: task.language,
    apt: [],
    toolchain: [],
    env: {},
    install: [],
    test: "",
    parser: "",
    toolchainVersions: {},
  };
  // One retry: a concurrent image removal on a shared engine can break a cached build ("layer not known").
  let wb: Awaited<ReturnType<Sandbox["build"]>> | undefined;
  for (let i = 0; i < 2 && !wb?.ok && !wb?.timedOut; i++)
    wb = await o.sandbox.build({
      tag: workTag,
      dockerfile: renderDockerfile({ baseImage: o.baseImage, plan, caDir }),
      contextDir,
      timeoutMs: o.buildTimeoutMs ?? 30 * 60_000,
      network: true,
      labels: { "sweu.instance": task.instance_id },
    });
  if (!wb?.ok) return { workTag, error: `the agent's work image did not build:\n${wb?.log.slice(-2000)}` };
  const container = await o.sandbox.start({
    image: workTag,
    network: true,
    labels: { "sweu.role": "agent", "sweu.instance": task.instance_id },
  });
  return { workTag, container };
}

function newCost(model: Model): AgentCost {
  return { model: model.name, prompt_tokens: 0, completion_tokens: 0, usd: 0, turns: 0, submits: 0 };
}

/** The building agent: an LLM policy in the builder loop, with self-verification on every submit. */
export async function buildWithAgent(task: Task, o: AgentBuildOptions): Promise<AgentBuildOutcome> {
  const started = Date.now();
  const generateTests = !task.test_patch.trim();
  const contextDir = join(o.workDir, "context");
  await sanitisedCheckout(o.gitDir, task.base_commit, join(contextDir, "testbed"));
  const caDir = stageSiteCas(contextDir);
  const files = (await repoView(o.gitDir, task.base_commit)).files;
  const cost = newCost(o.model);
  const attempts: Attempt[] = [];
  const tag = imageTag(task.instance_id);
  const fail = (reason: ReasonCode, detail: string): AgentBuildOutcome => ({
    ok: false,
    reason,
    detail,
    attempts,
    agent: cost,
  });
  const work = await workContainer(task, o, contextDir, caDir);
  if (!("container" in work) || !work.container) {
    await o.sandbox.removeImage(work.workTag).catch(() => {});
    return fail("image_build_failed", work.error ?? "no work container");
  }
  const container: Container = work.container;
  let outcome: AgentBuildOutcome | undefined;
  try {
    const ws = new Workspace(container, task);
    await ws.init();
    if (!generateTests) await ws.switchTo("buggy");
    const judge = o.judge === null ? undefined : (o.judge ?? o.model);
    const s: Session = {
      task,
      ws,
      cost,
      attempts,
      generateTests,
      maxSubmits: o.maxSubmits ?? 3,
      verify: {
        sandbox: o.sandbox,
        baseImage: o.baseImage,
        contextDir,
        caDir,
        tag,
        parserFor: o.parserFor,
        buildTimeoutMs: o.buildTimeoutMs ?? 30 * 60_000,
        testTimeoutMs: o.testTimeoutMs ?? 15 * 60_000,
        judge,
        files,
        probes: o.probes ?? true,
        planName: `agent/${o.model.name}`,
      },
    };
    outcome = await converse(task, files, s, o, started);
    return outcome;
  } finally {
    await container.remove();
    await o.sandbox.removeImage(work.workTag).catch(() => {});
    if (!outcome?.ok) await o.sandbox.removeImage(tag).catch(() => {});
  }
}

/** The agent loop over the tools table, and its end turned into an outcome. */
async function converse(
  task: Task,
  files: readonly string[],
  s: Session,
  o: AgentBuildOptions,
  started: number,
): Promise<AgentBuildOutcome> {
  const loop = await runAgentLoop<BuildSuccess>({
    model: o.model,
    tools: toolSpecs({ generateTests: s.generateTests }),
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: taskPrompt(task, files, s.generateTests, o.priorFailure) },
    ],
    budget: o.budget,
    signal: o.signal,
    onEvent: o.onEvent,
    execute: (name, args, signal) => {
      const tool = TOOLS[name];
      return tool ? tool(args, s, signal) : Promise.resolve({ content: `no tool named "${name}"` });
    },
  });
  addTotals(s.cost, loop.totals);
  const attempts = s.attempts;
  if (loop.status === "done") {
    const built = { ...loop.value.built, build_ms: Date.now() - started };
    built.provenance = { ...built.provenance, ...tokens(s.cost) };
    return { ok: true, built, attempts, agent: s.cost };
  }
  if (loop.status === "stopped")
    return { ok: false, reason: loop.reason as ReasonCode, detail: loop.detail, attempts, agent: s.cost };
  const detail = s.lastFailure ? `${loop.detail}; last submission: ${s.lastFailure.detail}` : loop.detail;
  return { ok: false, reason: LOOP_REASON[loop.status] ?? "internal_error", detail, attempts, agent: s.cost };
}

function addTotals(cost: AgentCost, t: Totals): void {
  cost.prompt_tokens += t.prompt_tokens;
  cost.completion_tokens += t.completion_tokens;
  cost.usd += t.usd;
  cost.turns = t.turns;
}

const tokens = (c: AgentCost) => ({
  prompt_tokens: c.prompt_tokens,
  completion_tokens: c.completion_tokens,
  usd: c.usd,
});

export type { BuildOutcome };
