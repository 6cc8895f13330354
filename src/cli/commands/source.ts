import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { GitRepo, isCloneUrl, repoNameFromUrl } from "../../mine/git.ts";
import { GitSource } from "../../mine/git-source.ts";
import { GitHubSource } from "../../mine/github-source.ts";
import type { Source } from "../../mine/source.ts";
import { CliError, Exit } from "../exit-codes.ts";

/** The flags that say where PRs come from (`mine`, `run`). */
export interface SourceFlags {
  runDir?: string;
  github?: boolean;
  repoName?: string;
  apiUrl?: string;
  cloneUrl?: string;
}

export const defaultRunDir = (repo: string) => resolve("runs", repo.replace("/", "__"));

/**
 * The source of a verb's PRs and its run folder. With --github: the GitHub API (PR bodies, linked issues,
 * their comments as hints), diffs from a clone (--clone-url, a local repository given as the target, or
 * github.com); else the git history of a local repository or clone URL.
 */
export async function openSource(
  target: string,
  f: SourceFlags,
): Promise<{ source: Source & { git?: { dir: string } }; runDir: string; location: string }> {
  if (f.github) {
    const local = !isCloneUrl(target) && existsSync(target) ? await GitRepo.open(target) : undefined;
    const repo =
      f.repoName ??
      (local ? await local.originName() : isCloneUrl(target) ? repoNameFromUrl(target) : target);
    if (!repo || !/^[\w.-]+\/[\w.-]+$/.test(repo)) {
      throw new CliError(`--github expects owner/name (or --repo-name), got "${target}"`, Exit.usage);
    }
    const runDir = f.runDir ? resolve(f.runDir) : defaultRunDir(repo);
    const cloneUrl = f.cloneUrl ?? (isCloneUrl(target) ? target : `https://github.com/${repo}.git`);
    const clone =
      local && !f.cloneUrl
        ? local
        : isCloneUrl(cloneUrl)
          ? await GitRepo.clone(cloneUrl, join(runDir, "repos"), repo)
          : await GitRepo.open(cloneUrl);
    const source = new GitHubSource({
      repo,
      clone,
      baseUrl: f.apiUrl ?? process.env.GITHUB_API_URL,
      token: process.env.GITHUB_TOKEN,
      cacheDir: join(runDir, "github-cache"),
    });
    return { source, runDir, location: isCloneUrl(cloneUrl) && !local ? cloneUrl : clone.dir };
  }
  if (isCloneUrl(target)) {
    const repo = f.repoName ?? repoNameFromUrl(target);
    if (!repo) throw new CliError(`cannot tell owner/name from ${target}; pass --repo-name`, Exit.usage);
    const runDir = f.runDir ? resolve(f.runDir) : defaultRunDir(repo);
    const source = await GitSource.open(target, { repoName: repo, cacheDir: join(runDir, "repos") });
    return { source, runDir, location: target };
  }
  const source = await GitSource.open(target, { repoName: f.repoName });
  return {
    source,
    runDir: f.runDir ? resolve(f.runDir) : defaultRunDir(source.repo),
    location: resolve(target),
  };
}
