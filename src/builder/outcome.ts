/** What a build policy takes and returns: the same for recipes, the agent and the cascade. */
import type { OutputParser } from "../harness/run-state.ts";
import type { Built, Environment, ReasonCode } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Cause } from "../util/causes.ts";

export interface BuildOptions {
  sandbox: Sandbox;
  /** A local git repository that holds the task's commits. */
  gitDir: string;
  /** Scratch directory for this task (build context, logs). */
  workDir: string;
  baseImage: string;
  /** Parser factory: registry name → output parser. */
  parserFor: (name: string) => OutputParser;
  buildTimeoutMs?: number;
  testTimeoutMs?: number;
  /** Most image builds to try across all plans and repairs. */
  maxAttempts?: number;
  /** Share environment images between tasks whose dependency manifests match (default true). */
  reuse?: boolean;
  /** Earlier environments of the repository, most recent first: tried before a full build. */
  nearestEnvironments?: (repo: string, recipe: string) => Environment[];
  onAttempt?: (a: Attempt) => void;
  /**
   * Environment images shared between machines (a registry): `fetch` brings the image of a local tag here
   * (from `ref`, else the registry's name for the tag) and says whether it could. Tried before building one.
   */
  images?: { fetch(tag: string, ref?: string): Promise<boolean> };
}

/** One try of one plan or submission: what was built and how the two states behaved. Saved as the trajectory. */
export interface Attempt {
  plan: string;
  stage: "build" | "resolved" | "buggy" | "done";
  ok: boolean;
  reason?: ReasonCode;
  detail: string;
  durationMs: number;
}

/** What the building agent spent, also when it failed. */
export interface AgentCost {
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  usd: number;
  turns: number;
  submits: number;
}

export interface BuildSuccess {
  ok: true;
  built: Built;
  attempts: Attempt[];
}

export interface BuildFailure {
  ok: false;
  reason: ReasonCode;
  detail: string;
  attempts: Attempt[];
  /** Set when the agent took part. */
  agent?: AgentCost;
  /** Set when the machine, not the task, failed (the engine said the disk is full). */
  cause?: Cause;
}

export type BuildOutcome = BuildSuccess | BuildFailure;
