import { join } from "node:path";
import type { OutputParser } from "../../harness/run-state.ts";
import type { Model } from "../../model/model.ts";
import type { CheckVerdict, ReasonCode, Task } from "../../records/index.ts";
import type { Sandbox } from "../../sandbox/sandbox.ts";
import { type Attempt, type BuildFailure, type BuildSuccess, imageTag } from "../builder.ts";
import { renderDockerfile } from "../dockerfile.ts";
import { repoView, sanitisedCheckout } from "../repo.ts";
import { stageSiteCas } from "../site.ts";
import { type AgentEvent, type Budget, runAgentLoop, type Totals } from "./loop.ts";
import { SYSTEM_PROMPT, taskPrompt } from "./prompts.ts";
import { toolSpecs, Workspace } from "./tools.ts";
import { readSubmission, verifySubmission } from "./verify.ts";

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

export interface AgentCost {
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  usd: number;
  turns: number;
  submits: number;
}

export type AgentBuildOutcome =
  | (BuildSuccess & {
      agent: AgentCost;
      /** The task as verified: with the generated tests as its test patch when the PR had none. */
      task: Task;
      checks: CheckVerdict[];
      generatedTestPatch?: string;
    })
  | (BuildFailure & { agent: AgentCost });

const LOOP_REASON: Record<string, ReasonCode> = {
  budget: "budget_exhausted",
  model_error: "model_error",
  no_progress: "builder_exhausted",
  aborted: "internal_error",
};

/** The building agent: an LLM policy in the builder loop, with self-verification on every submit. */
export async function buildWithAgent(task: Task, o: AgentBuildOptions): Promise<AgentBuildOutcome> {
  const started = Date.now();
  const generateTests = !task.test_patch.trim();
  const contextDir = join(o.workDir, "context");
  await sanitisedCheckout(o.gitDir, task.base_commit, join(contextDir, "testbed"));
  const caDir = stageSiteCas(contextDir);
  const files = (await repoView(o.gitDir, task.base_commit)).files;
  const attempts: Attempt[] = [];
  const judge = o.judge === null ? undefined : (o.judge ?? o.model);
  const cost: AgentCost = {
    model: o.model.name,
    prompt_tokens: 0,
    completion_tokens: 0,
    usd: 0,
    turns: 0,
    submits: 0,
  };
  const addTotals = (t: Totals) =>
    Object.assign(cost, {
      prompt_tokens: cost.prompt_tokens + t.prompt_tokens,
      completion_tokens: cost.completion_tokens + t.completion_tokens,
      usd: cost.usd + t.usd,
      turns: t.turns,
    });
  const workTag = `localhost/sweu.agent-work.${task.instance_id.toLowerCase().replace(/[^a-z0-9._-]/g, "_")}:latest`;
  const tag = imageTag(task.instance_id);
  const fail = (reason: ReasonCode, detail: string): AgentBuildOutcome => ({
    ok: false,
    reason,
    detail,
    attempts,
    agent: cost,
  });

  // The agent's own container: the base image and the repository, nothing installed.
  const emptyPlan = {
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
      dockerfile: renderDockerfile({ baseImage: o.baseImage, plan: emptyPlan, caDir }),
      contextDir,
      timeoutMs: o.buildTimeoutMs ?? 30 * 60_000,
      network: true,
      labels: { "sweu.instance": task.instance_id },
    });
  if (!wb?.ok)
    return fail("image_build_failed", `the agent's work image did not build:\n${wb?.log.slice(-2000)}`);
  const container = await o.sandbox.start({
    image: workTag,
    network: true,
    labels: { "sweu.role": "agent", "sweu.instance": task.instance_id },
  });
  let outcome: AgentBuildOutcome | undefined;
  try {
    const ws = new Workspace(container, task);
    await ws.init();
    if (!generateTests) await ws.switchTo("buggy");
    const maxSubmits = o.maxSubmits ?? 3;
    let lastFailure: { reason: ReasonCode; detail: string } | undefined;
    const loop = await runAgentLoop({
      model: o.model,
      tools: toolSpecs({ generateTests }),
      messages: [
        { role: "system", content: SYSTEM_PROMPT },
        { role: "user", content: taskPrompt(task, files, generateTests, o.priorFailure) },
      ],
      budget: o.budget,
      signal: o.signal,
      onEvent: o.onEvent,
      execute: async (name, args, signal) => {
        if (name === "bash")
          return { content: await ws.bash(String(args.command ?? ""), Number(args.timeout) || 300) };
        if (name === "read_file") return { content: await ws.readFile(String(args.path ?? "")) };
        if (name === "write_file")
          return { content: await ws.writeFile(String(args.path ?? ""), String(args.content ?? "")) };
        if (name === "switch_to_bug") return { content: await ws.switchTo("buggy") };
        if (name === "switch_to_resolved") return { content: await ws.switchTo("resolved") };
        // submit
        const sub = readSubmission(args, generateTests);
        if (typeof sub === "string") return { content: `submit refused: ${sub}` };
        cost.submits++;
        const t0 = Date.now();
        let verified: Task = task;
        let generated: string | undefined;
        if (generateTests) {
          generated = await ws.testPatchOf(sub.testFiles ?? []);
          if (!generated.trim())
            return {
              content: "submit refused: the test_files you listed show no change against the base commit",
            };
          verified = { ...task, test_patch: generated, test_files: sub.testFiles ?? [] };
        }
        const v = await verifySubmission(verified, sub, {
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
          signal,
        });
        cost.prompt_tokens += v.judgeUsage.prompt_tokens;
        cost.completion_tokens += v.judgeUsage.completion_tokens;
        cost.usd += v.judgeUsage.usd;
        const stage = v.ok
          ? "done"
          : v.stage === "build"
            ? "build"
            : v.stage === "buggy"
              ? "buggy"
              : "resolved";
        attempts.push({
          plan: `submit-${cost.submits}`,
          stage,
          ok: v.ok,
          reason: v.ok ? undefined : v.reason,
          detail: v.ok ? "" : v.feedback.slice(0, 4000),
          durationMs: Date.now() - t0,
        });
        if (v.ok) {
          const value: AgentBuildOutcome = {
            ok: true,
            environment: v.environment,
            plan: v.plan,
            dockerfile: v.dockerfile,
            evaluationScript: v.evaluationScript,
            runs: v.runs,
            attempts,
            buildMs: 0,
            agent: cost,
            task: verified,
            // The judge's verdict and the probes it already ran on this very image and script.
            checks: v.checks.filter((c) => c.kind === "judge" || c.kind === "dynamic"),
            generatedTestPatch: generated,
          };
          return {
            content:
              "Verified: the environment builds, the resolved state passes, the buggy state fails and no hacking check fired. Done.",
            done: value,
          };
        }
        lastFailure = { reason: v.reason, detail: v.feedback };
        if (v.fatal) return { content: v.feedback, stop: { reason: v.reason, detail: v.feedback } };
        if (cost.submits >= maxSubmits)
          return {
            content: `${v.feedback}\n\nThat was the last of ${maxSubmits} submissions.`,
            stop: { reason: v.reason, detail: v.feedback },
          };
        return { content: `${v.feedback}\n\n(${maxSubmits - cost.submits} submissions left.)` };
      },
    });
    addTotals(loop.totals);
    if (loop.status === "done") {
      outcome = {
        ...(loop.value as Extract<AgentBuildOutcome, { ok: true }>),
        buildMs: Date.now() - started,
      };
    } else if (loop.status === "stopped") {
      outcome = fail(loop.reason as ReasonCode, loop.detail);
    } else {
      const detail = lastFailure ? `${loop.detail}; last submission: ${lastFailure.detail}` : loop.detail;
      outcome = fail(LOOP_REASON[loop.status] ?? "internal_error", detail);
    }
    return outcome;
  } finally {
    await container.remove();
    await o.sandbox.removeImage(workTag).catch(() => {});
    if (!outcome?.ok) await o.sandbox.removeImage(tag).catch(() => {});
  }
}
