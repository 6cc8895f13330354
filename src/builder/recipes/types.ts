import type { Language, Task } from "../../records/index.ts";
import type { RepoView } from "../view.ts";

/**
 * One concrete way to build and test a task: plain data, rendered into a Dockerfile and evaluation.sh
 * by the shared mechanism (src/builder/dockerfile.ts, src/builder/evaluation-script.ts).
 */
export interface BuildPlan {
  /** "python/pip-extras", "node/npm-ci-jest", … */
  name: string;
  language: Language;
  /** Debian packages the toolchain needs. */
  apt: string[];
  /**
   * Raw Dockerfile instructions placed before the toolchain steps, e.g. `COPY --from=<toolchain image> …`
   * (optional; the images they name are listed in `images` and made first, see plan-images.ts).
   */
  dockerSteps?: string[];
  /** Local images the Dockerfile copies from, built when missing before the environment is built. */
  images?: PlanImage[];
  /** Shell steps that install the toolchain, before the repository is copied in (shared, cached layers). */
  toolchain: string[];
  /** Environment for install and tests (ENV lines; also exported by evaluation.sh). */
  env: Record<string, string>;
  /** Shell steps run in /testbed to install the project's dependencies (network on). */
  install: string[];
  /**
   * Steps that bring an environment built at another commit (same dependency manifests) up to date with
   * this task's source, run after the source swap in the thin instance layer (e.g. `pip install --no-deps -e .`).
   */
  refresh?: string[];
  /** The test command evaluation.sh runs, test selection already applied. */
  test: string;
  /** Parser registry key for the test output. */
  parser: string;
  /** Where the runner writes JUnit XML, if it does; printed in its own section. */
  junit?: string;
  /** Toolchain versions as the plan chose them, for the Environment record. */
  toolchainVersions: Record<string, string>;
}

/** A local image a plan depends on: its tag and how to make it from a host directory. */
export interface PlanImage {
  tag: string;
  /** Dockerfile whose build context holds the host directory as `src/` (e.g. `FROM scratch\nCOPY src /opt/x`). */
  dockerfile: string;
  /** Host directory copied into the build context (hard links where possible). */
  source: string;
  /** Paths under `source` left out of the context (documentation, …). */
  exclude?: string[];
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
  /**
   * Files the recipe reads to decide how to build (manifests, tool configs, CI workflows), as paths at most
   * three deep: the repository view loads their content (src/builder/manifests.ts).
   */
  manifests: RegExp;
  /**
   * Dependency manifests and lockfiles: their content decides whether two commits can share an environment
   * image, and the fix's changes to them are installed from the resolved commit (src/builder/reuse.ts).
   */
  dependencyFiles: RegExp;
  /**
   * Which of the dependency files the fix changes are installed from the resolved commit (default: all).
   * Build scripts that list the sources (CMakeLists.txt) name files the test patch adds: configured at the
   * base they fail, so they are applied with the patch and the build step reconfigures.
   */
  overlayFiles?: RegExp;
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

export { q } from "../../util/shell.ts";
