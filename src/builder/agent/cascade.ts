import type { Model } from "../../model/model.ts";
import type { Instance, ReasonCode, Task } from "../../records/index.ts";
import { type BuildOptions, type BuildOutcome, buildEnvironment } from "../builder.ts";
import type { AgentEvent, Budget } from "./loop.ts";
import { type AgentBuildOutcome, buildWithAgent } from "./policy.ts";

/** Which policy builds: recipes only (default), the agent only, or recipes first and the agent where they fail. */
export type BuilderKind = "recipe" | "agent" | "cascade";
export const BUILDER_KINDS: readonly BuilderKind[] = ["recipe", "agent", "cascade"];

/** Failures no builder can fix: the task itself is broken (a patch that does not apply, a suite that hangs). */
const TASK_FAULTS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "patch_apply_failed",
  "test_patch_apply_failed",
  "tests_timeout",
  "needs_network",
  "repo_unavailable",
]);

export interface BuildTaskOptions extends BuildOptions {
  builder: BuilderKind;
  model?: Model;
  judge?: Model | null;
  budget?: Partial<Budget>;
  maxSubmits?: number;
  signal?: AbortSignal;
  onAgentEvent?: (e: AgentEvent) => void;
}

export type AnyBuildOutcome = BuildOutcome | AgentBuildOutcome;

/** Build one task with the chosen policy. Tasks without tests of their own go to the agent (it writes them). */
export async function buildTask(task: Task, o: BuildTaskOptions): Promise<AnyBuildOutcome> {
  if (o.builder !== "recipe" && !o.model)
    return {
      ok: false,
      reason: "model_error",
      detail: `--builder ${o.builder} needs a model (--model or SWEU_MODEL)`,
      attempts: [],
    };
  const agent = (priorFailure?: string) =>
    buildWithAgent(task, {
      priorFailure,
      sandbox: o.sandbox,
      gitDir: o.gitDir,
      workDir: o.workDir,
      baseImage: o.baseImage,
      parserFor: o.parserFor,
      model: o.model!,
      judge: o.judge,
      budget: o.budget,
      maxSubmits: o.maxSubmits,
      buildTimeoutMs: o.buildTimeoutMs,
      testTimeoutMs: o.testTimeoutMs,
      signal: o.signal,
      onEvent: o.onAgentEvent,
    });
  if (o.builder === "agent" || !task.test_patch.trim())
    return o.builder === "recipe" ? buildEnvironment(task, o) : agent();
  const started = Date.now();
  const recipe = await buildEnvironment(task, o);
  if (o.builder === "recipe" || recipe.ok || TASK_FAULTS.has(recipe.reason)) return recipe;
  const recipeMs = Date.now() - started;
  const a = await agent(`${recipe.reason}: ${recipe.detail}`);
  // The recipes' tries are part of how the task was built, and of what it cost.
  a.attempts.unshift(...recipe.attempts);
  if (a.ok) a.buildMs += recipeMs;
  else a.detail = `recipes: ${recipe.reason}; agent: ${a.detail}`;
  return a;
}

/** The task validation must use: with the agent's generated tests when it wrote them. */
export function validatedTask(task: Task, built: AnyBuildOutcome): Task {
  return built.ok && "task" in built ? built.task : task;
}

/** Record on the instance what the agent did: the model, tokens and money, the judge's verdict, generated tests. */
export function withAgentRecord(inst: Instance, built: AnyBuildOutcome): Instance {
  if (!built.ok || !("agent" in built)) return inst;
  const judge = built.checks.filter((c) => !inst.checks.some((x) => x.check === c.check));
  return {
    ...inst,
    checks: [...inst.checks, ...judge],
    builder: { kind: "model", name: built.agent.model, attempts: built.agent.submits },
    cost: {
      ...inst.cost,
      prompt_tokens: built.agent.prompt_tokens,
      completion_tokens: built.agent.completion_tokens,
      usd: built.agent.usd,
    },
    ...(built.generatedTestPatch ? { generated_test_patch: built.generatedTestPatch } : {}),
  };
}

/**
 * The builder a command runs with. Default: recipe, even when a model is configured — the agent spends
 * money, so it is asked for by name (--builder agent|cascade); asking for it without a model is an error.
 */
export function chooseBuilder(flag: string | undefined, model: Model | undefined): BuilderKind {
  const kind = (flag ?? "recipe") as BuilderKind;
  if (!BUILDER_KINDS.includes(kind))
    throw new Error(`--builder must be one of ${BUILDER_KINDS.join(", ")}, got "${flag}"`);
  if (kind !== "recipe" && !model)
    throw new Error(`--builder ${kind} needs a model: pass --model (and --base-url) or set SWEU_MODEL`);
  return kind;
}
