import { join } from "node:path";
import type { Candidate } from "../records/candidate.ts";
import { instanceId, RepoName } from "../records/common.ts";
import { classifyPath, rankLanguages } from "./classify.ts";
import { SourceError } from "./errors.ts";
import { GitRepo, isCloneUrl, repoNameFromUrl } from "./git.ts";
import { gitLog } from "./git-log.ts";
import { parseIssueRefs, parsePrCommit } from "./refs.ts";
import type { ListOptions, Source } from "./source.ts";

export interface GitSourceOptions {
  /** owner/name to record; default: from the origin URL, else `local/<dir>`. */
  repoName?: string;
  /** Where clone URLs are cloned (bare). Default `.sweu/repos`. */
  cacheDir?: string;
}

/**
 * Merged PRs recovered from history, without any API:
 * - merge commits "Merge pull request #N from …": base = first parent, resolved = the merge commit;
 * - squash (or single-commit rebase) commits titled "… (#N)": base = the parent, resolved = the commit.
 * History reachable from HEAD is walked (not only first parents, so PRs merged into a release branch that
 * was merged back are found). When a number appears twice (a cherry-pick, a backport), the first one met
 * in `git log` order (the newest) is kept.
 * Linked issues come from the message ("fixes #12" closes; a bare "#12" is a mention); their text is
 * unknown without the API, so problem statements fall back to the PR title and body.
 */
export class GitSource implements Source {
  readonly kind = "git" as const;
  readonly repo: string;
  readonly git: GitRepo;

  private constructor(git: GitRepo, repo: string) {
    this.git = git;
    this.repo = repo;
  }

  /** `location` is a local path or a clone URL. */
  static async open(location: string, opts: GitSourceOptions = {}): Promise<GitSource> {
    if (opts.repoName !== undefined && !RepoName.safeParse(opts.repoName).success) {
      throw new SourceError("input", `--repo-name must look like owner/name, got "${opts.repoName}"`);
    }
    let git: GitRepo;
    let name = opts.repoName;
    if (isCloneUrl(location)) {
      name ??= repoNameFromUrl(location);
      if (!name) throw new SourceError("input", `cannot tell owner/name from ${location}; pass --repo-name`);
      git = await GitRepo.clone(location, opts.cacheDir ?? join(".sweu", "repos"), name);
    } else {
      git = await GitRepo.open(location);
      name ??= (await git.originName()) ?? git.localName();
    }
    return new GitSource(git, name);
  }

  async *listCandidates(opts: ListOptions = {}): AsyncGenerator<Candidate> {
    const seen = new Set<number>();
    let yielded = 0;
    const log = gitLog(this.git.dir, {
      since: opts.since,
      grep: ["^Merge pull request #[0-9]+ from ", "\\(#[0-9]+\\)"],
    });
    try {
      for await (const c of log) {
        if (opts.signal?.aborted) return;
        if (opts.limit !== undefined && yielded >= opts.limit) return;
        const pr = parsePrCommit(c.message, c.parents.length);
        if (!pr || !Number.isSafeInteger(pr.number) || pr.number <= 0 || seen.has(pr.number)) continue;
        seen.add(pr.number);
        const id = instanceId(this.repo, pr.number);
        if (opts.skip?.(id)) continue;
        const files = c.files.map((f) => ({ ...f, kind: classifyPath(f.path) }));
        const refs = parseIssueRefs(`${pr.title}\n${pr.body}`, this.repo, [pr.number]);
        yield {
          id,
          repo: this.repo,
          number: pr.number,
          title: pr.title,
          body: pr.body,
          merged: true,
          created_at: new Date(c.authorDate).toISOString(),
          merged_at: new Date(c.commitDate).toISOString(),
          base_commit: c.parents[0]!,
          resolved_commit: c.sha,
          linked_issues: refs.map((r) => ({ number: r.number, title: "", body: "", closing: r.closing })),
          changed_files: files,
          languages: rankLanguages(files),
          source: "git",
          merge_style: pr.style,
        };
        yielded++;
      }
    } finally {
      await log.return(undefined);
    }
  }

  diff(candidate: Candidate): Promise<Buffer> {
    return this.git.diff(candidate.base_commit, candidate.resolved_commit);
  }

  readFile(commit: string, path: string): Promise<Buffer | undefined> {
    return this.git.readFile(commit, path);
  }

  close(): Promise<void> {
    return this.git.close();
  }
}
