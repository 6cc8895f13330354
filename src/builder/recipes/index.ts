import type { Language } from "../../records/index.ts";
import type { RepoView } from "../view.ts";
import { cmake } from "./cmake.ts";
import { dotnet } from "./dotnet.ts";
import { go } from "./go.ts";
import { gradle, maven } from "./java.ts";
import { node } from "./node.ts";
import { python } from "./python.ts";
import { rust } from "./rust.ts";
import type { Recipe } from "./types.ts";

/** The recipe table: a new ecosystem is a new entry here. */
export const RECIPES: Recipe[] = [python, node, go, rust, cmake, maven, gradle, dotnet];

/** Recipes for a task: those made for its language first, then any other that recognises the repository. */
export function recipesFor(language: Language, view: RepoView): Recipe[] {
  const own = RECIPES.filter((r) => r.languages.includes(language) && r.detect(view));
  const others = RECIPES.filter((r) => !own.includes(r) && r.detect(view) && r.languages.includes(language));
  return [...own, ...others];
}
