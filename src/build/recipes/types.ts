import type { Language, Task } from "../../records/index.ts";
import type { RepoView } from "../repo.ts";

/**
 * One concrete way to build and test a task: plain data, rendered into a Dockerfile and evaluation.sh
 * by the shared mechanism (src/build/dockerfile.ts, src/build/evaluation-script.ts).
 */
export interface BuildPlan {
  /** "python/pip-extras", "node/npm-ci-jest", … */
  name: string;
  language: Language;
  /** Debian packages the toolchain needs. */
  apt: string[];
  /** Shell steps that install the toolchain, before the repository is copied in (shared, cached layers). */
  toolchain: string[];
  /** Environment for install and tests (ENV lines; also exported by evaluation.sh). */
  env: Record<string, string>;
  /** Shell steps run in /testbed to install the project's dependencies (network on). */
  install: string[];
  /** The test command evaluation.sh runs, test selection already applied. */
  test: string;
  /** Parser registry key for the test output. */
  parser: string;
  /** Where the runner writes JUnit XML, if it does; printed in its own section. */
  junit?: string;
  /** Toolchain versions as the plan chose them, for the Environment record. */
  toolchainVersions: Record<string, string>;
}

export interface RecipeContext {
  view: RepoView;
  task: Task;
  /** Test files of the PR that exist once the test patch is applied. */
  testFiles: string[];
}

/** A recipe is a table entry: how to recognise an ecosystem and the plans to try, best first. */
export interface Recipe {
  name: string;
  languages: Language[];
  detect(view: RepoView): boolean;
  plans(
    ctx: RecipeContext,
  ): Promise<BuildPlan[] | { unavailable: string }> | BuildPlan[] | { unavailable: string };
  /**
   * Read a failure (install log or test output) and return a revised plan, or undefined to move on to the
   * next variant. This is how a recipe "reads the failure".
   */
  repair?(plan: BuildPlan, failure: string): BuildPlan | undefined;
}

/** Shell-quote one argument. */
export function q(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
