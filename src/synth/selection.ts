/**
 * The verifier of a synthetic bug: the environment's own evaluation.sh with its test selection widened
 * from the PR's test files to the repository's (a bug can be anywhere, and so can the tests that see it).
 * The environment's recipe plans the selection both ways (the PR's files, every test file at the commit);
 * what differs between the two commands replaces the PR's selection in the instance's script, so whatever
 * the builder repaired in that script (options dropped, tests skipped) stays. When the two cannot be told
 * apart the instance's script is used as it is (narrower, still honest).
 */
import { recipesFor } from "../builder/recipes/index.ts";
import type { BuildPlan } from "../builder/recipes/types.ts";
import type { RepoView } from "../builder/view.ts";
import { presentTestFiles } from "../harness/run-state.ts";
import { classifyPath, languageOf } from "../mine/classify.ts";
import type { Environment, Instance, Task } from "../records/index.ts";

export interface Selection {
  script: string;
  /** Test files it runs (the no-tests probe deletes them). */
  testFiles: string[];
  /** false: the instance's own selection (the recipe could not widen it). */
  wide: boolean;
  note: string;
}

/** Test files at the commit in the environment's language family, at most `max`, sorted. */
export function repositoryTestFiles(view: RepoView, env: Environment, max = 400): string[] {
  const family = (l: string | undefined) => (l === "typescript" ? "javascript" : l);
  const want = family(env.language);
  return view.files
    .filter((f) => classifyPath(f) === "test" && family(languageOf(f)) === want)
    .sort()
    .slice(0, max);
}

/** The part of `a` that differs from `b` (common prefix and suffix cut), and the same part of `b`. */
export function middles(a: string, b: string): [string, string] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  // Cut back to a word boundary, so a file name is not split.
  while (pre > 0 && !/\s/.test(a[pre - 1]!)) pre--;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  while (suf > 0 && !/\s/.test(a[a.length - suf]!)) suf--;
  return [a.slice(pre, a.length - suf), b.slice(pre, b.length - suf)];
}

async function planNamed(
  view: RepoView,
  task: Task,
  testFiles: string[],
  name: string,
): Promise<BuildPlan | undefined> {
  for (const recipe of recipesFor(task.language, view)) {
    const planned = await recipe.plans({ view, task, testFiles });
    if ("unavailable" in planned) continue;
    const hit = planned.find((p) => p.name === name);
    if (hit) return hit;
  }
  return undefined;
}

export async function widenSelection(x: {
  view: RepoView;
  task: Task;
  inst: Instance;
  env: Environment;
  maxTestFiles?: number;
}): Promise<Selection> {
  const own = presentTestFiles(x.task).filter((f) => x.view.has(f));
  const narrow: Selection = {
    script: x.inst.evaluation_script,
    testFiles: own,
    wide: false,
    note: "",
  };
  const all = repositoryTestFiles(x.view, x.env, x.maxTestFiles);
  // The plan as first planned: repairs append "+what" to its name.
  const name = x.env.recipe.split("+")[0]!;
  const [p, w] = await Promise.all([
    planNamed(x.view, x.task, presentTestFiles(x.task), name),
    planNamed(x.view, x.task, all, name),
  ]);
  if (!p || !w) return { ...narrow, note: `recipe plan ${name} not found again: the PR's own selection` };
  if (p.test === w.test)
    return { ...narrow, testFiles: all, wide: true, note: "the selection is already the whole suite" };
  const [pm, wm] = middles(p.test, w.test);
  const at = x.inst.evaluation_script.indexOf(pm);
  if (!pm || at < 0 || x.inst.evaluation_script.indexOf(pm, at + 1) >= 0)
    return { ...narrow, note: "the PR's selection is not found once in its script: the PR's own selection" };
  return {
    script: x.inst.evaluation_script.slice(0, at) + wm + x.inst.evaluation_script.slice(at + pm.length),
    testFiles: all,
    wide: true,
    note: `${all.length} test files`,
  };
}

/** The same script with some test files left out of its selection (they fail at the commit). */
export async function narrowSelection(
  x: Parameters<typeof widenSelection>[0],
  drop: ReadonlySet<string>,
): Promise<Selection> {
  const view: RepoView = {
    ...x.view,
    files: x.view.files.filter((f) => !drop.has(f)),
    has: (f) => !drop.has(f) && x.view.has(f),
  };
  return widenSelection({ ...x, view });
}
