import { z } from "zod";
import { Environment } from "./environment.ts";
import { CheckVerdict, StateRun } from "./instance.ts";
import { Task } from "./task.ts";

/** Who built an environment and what it cost: a recipe (no model) or a model (the building agent). */
export const Provenance = z.object({
  kind: z.enum(["recipe", "model"]),
  /** The recipe plan ("python/pip-extras") or the model's name. */
  name: z.string(),
  /** Image builds tried (recipe) or submissions verified (agent). */
  attempts: z.number().int().nonnegative(),
  prompt_tokens: z.number().int().nonnegative().default(0),
  completion_tokens: z.number().int().nonnegative().default(0),
  usd: z.number().nonnegative().default(0),
});
export type Provenance = z.infer<typeof Provenance>;

/**
 * A built environment, whoever built it: what every build policy (recipe, agent, cascade) returns and what
 * validation takes. Plain data; validation turns it into an Instance (src/validate/instance.ts).
 */
export const Built = z.object({
  /** The task as built and verified: with the builder's generated tests as its test patch when it wrote them. */
  task: Task,
  environment: Environment,
  /** The task's own image (the environment plus its thin instance layer). */
  image: z.string(),
  /** How the image came to be: a full build, the task's key found, the nearest environment updated, or no reuse. */
  reuse: z.enum(["full", "exact", "nearest", "off"]),
  dockerfile: z.string(),
  evaluation_script: z.string(),
  parser: z.string(),
  /**
   * Lists the tests evaluation.sh runs without running them, where the runner can (the recipe's list
   * command in evaluation.sh's frame); the base state is learnt from it instead of N runs.
   */
  list_script: z.string().optional(),
  /** The install script the image was built from, when a model wrote it (the judge reads it). */
  install_script: z.string().optional(),
  /** State runs already made on this image (the builder's quick check). */
  runs: z.array(StateRun),
  /** Checks already made on this very image and script (the agent's probes and judge). */
  checks: z.array(CheckVerdict),
  provenance: Provenance,
  /** Set when the PR had no tests and the builder wrote them. */
  generated_test_patch: z.string().optional(),
  build_ms: z.number().nonnegative(),
});
export type Built = z.infer<typeof Built>;
