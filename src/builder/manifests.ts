/**
 * Which files of a repository the builder reads and which decide environment reuse: the union of what each
 * recipe declares (Recipe.manifests, Recipe.dependencyFiles), so a new ecosystem is one recipe entry and
 * touches neither the repository view nor environment reuse.
 */
import { RECIPES } from "./recipes/index.ts";

const shallow = (path: string) => path.split("/").length <= 3;

/** Dependency manifests and lockfiles: their content decides whether two commits can share an environment. */
export function isDependencyFile(path: string): boolean {
  return shallow(path) && RECIPES.some((r) => r.dependencyFiles.test(path));
}

/** Dependency files whose content at the resolved commit the environment installs from (reuse.ts). */
export function isOverlayFile(path: string): boolean {
  return shallow(path) && RECIPES.some((r) => (r.overlayFiles ?? r.dependencyFiles).test(path));
}

/** Files some recipe reads (loaded by the repository view), dependency files included. */
export function isManifest(path: string): boolean {
  return (shallow(path) && RECIPES.some((r) => r.manifests.test(path))) || isDependencyFile(path);
}
