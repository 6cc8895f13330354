/**
 * Build policies side by side behind one interface, keyed by name (DESIGN §5): `recipe` (deterministic,
 * the default), `agent` (an LLM with tools), `cascade` (recipes first, the agent where they fail for a
 * reason another builder could fix). Each returns a builder-neutral Built (src/records/built.ts) or why not.
 */
import type { Model } from "../model/model.ts";
import type { ReasonCode, Task } from "../records/index.ts";
import type { AgentEvent, Budget } from "./agent/loop.ts";
import { buildWithAgent } from "./agent/policy.ts";
import { buildEnvironment } from "./builder.ts";
import type { BuildOptions, BuildOutcome } from "./outcome.ts";

export interface BuildTaskOptions extends BuildOptions {
  builder: BuilderKind;
  model?: Model;
  judge?: Model | null;
  budget?: Partial<Budget>;
  maxSubmits?: number;
  signal?: AbortSignal;
  onAgentEvent?: (e: AgentEvent) => void;
}

export interface BuildPolicy {
  /** Whether the policy calls a model (asking for it without one is an error). */
  needsModel: boolean;
  build(task: Task, o: BuildTaskOptions): Promise<BuildOutcome>;
}

/** Failures no builder can fix: the task itself is broken (a patch that does not apply, a suite that hangs). */
const TASK_FAULTS: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  "patch_apply_failed",
  "test_patch_apply_failed",
  "tests_timeout",
  "needs_network",
  "repo_unavailable",
]);

function agent(task: Task, o: BuildTaskOptions, priorFailure?: string) {
  return buildWithAgent(task, {
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
}

/** Recipes first; the agent where they failed for a reason another builder could fix, told what failed. */
async function cascade(task: Task, o: BuildTaskOptions): Promise<BuildOutcome> {
  if (!task.test_patch.trim()) return agent(task, o);
  const started = Date.now();
  const recipe = await buildEnvironment(task, o);
  if (recipe.ok || TASK_FAULTS.has(recipe.reason)) return recipe;
  const recipeMs = Date.now() - started;
  const a = await agent(task, o, `${recipe.reason}: ${recipe.detail}`);
  // The recipes' tries are part of how the task was built, and of what it cost.
  a.attempts.unshift(...recipe.attempts);
  if (a.ok) a.built.build_ms += recipeMs;
  else a.detail = `recipes: ${recipe.reason}; agent: ${a.detail}`;
  return a;
}

export const POLICIES = {
  recipe: { needsModel: false, build: (task, o) => buildEnvironment(task, o) },
  agent: { needsModel: true, build: (task, o) => agent(task, o) },
  cascade: { needsModel: true, build: cascade },
} as const satisfies Record<string, BuildPolicy>;

/** Which policy builds: recipes only (default), the agent only, or recipes first and the agent where they fail. */
export type BuilderKind = keyof typeof POLICIES;
export const BUILDER_KINDS = Object.keys(POLICIES) as readonly BuilderKind[];

/** Build one task with the chosen policy. Tasks without tests of their own go to the agent (it writes them). */
export async function buildTask(task: Task, o: BuildTaskOptions): Promise<BuildOutcome> {
  const policy: BuildPolicy = POLICIES[o.builder];
  if (policy.needsModel && !o.model)
    return {
      ok: false,
      reason: "model_error",
      detail: `--builder ${o.builder} needs a model (--model or SWEU_MODEL)`,
      attempts: [],
    };
  return policy.build(task, o);
}

/**
 * The builder a command runs with. Default: recipe, even when a model is configured — the agent spends
 * money, so it is asked for by name (--builder agent|cascade); asking for it without a model is an error.
 */
export function chooseBuilder(flag: string | undefined, model: Model | undefined): BuilderKind {
  const kind = (flag ?? "recipe") as BuilderKind;
  if (!BUILDER_KINDS.includes(kind))
    throw new Error(`--builder must be one of ${BUILDER_KINDS.join(", ")}, got "${flag}"`);
  if (POLICIES[kind].needsModel && !model)
    throw new Error(`--builder ${kind} needs a model: pass --model (and --base-url) or set SWEU_MODEL`);
  return kind;
}
