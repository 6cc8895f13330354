import type { Candidate, ChangedFile, LinkedIssue } from "../records/candidate.ts";
import { instanceId } from "../records/common.ts";
import { classifyPath, rankLanguages } from "./classify.ts";
import { SourceError } from "./errors.ts";
import type { GitRepo } from "./git.ts";
import { type GitHubClient, type GitHubClientOptions, makeGitHubClient } from "./github-client.ts";
import { parseIssueRefs } from "./refs.ts";
import type { ListOptions, Source } from "./source.ts";

export interface GitHubSourceOptions extends GitHubClientOptions {
  /** owner/name */
  repo: string;
  /** A clone of the repository: gives diffs and tells merge commits from squashes. */
  clone?: GitRepo;
}

interface ApiPull {
  number: number;
  title: string;
  body: string | null;
  created_at: string;
  updated_at: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  base: { sha: string };
  head: { sha: string };
}

interface ApiFile {
  filename: string;
  previous_filename?: string;
  status: string;
  additions: number;
  deletions: number;
  changes: number;
  patch?: string;
}

const FILE_STATUS: Record<string, ChangedFile["status"]> = {
  added: "added",
  removed: "deleted",
  modified: "modified",
  renamed: "renamed",
  copied: "copied",
  changed: "type_changed",
  unchanged: "modified",
};

/**
 * Merged PRs listed through the GitHub REST API (closed PRs, newest updated first), enriched with their
 * changed files and the text of the issues their body closes. Diffs come from a local clone.
 *
 * Base commit. The environment needs a base that exists in the clone and a diff that is exactly the PR:
 * - merged by a merge commit (merge_commit_sha has two parents in the clone): base = its first parent,
 *   resolved = the merge commit;
 * - squash or rebase (one parent): base = that parent, resolved = merge_commit_sha. The PR's `base.sha` is
 *   where the branch started; diffing from there would pull in everything merged to the base branch since.
 *   (A rebase of several commits is seen as its last commit only: a known limit.)
 * - merge commit not in the clone (or no clone): base = the PR's `base.sha`, resolved = merge_commit_sha,
 *   merge_style "api"; the mine stage rejects it as no_base_commit if the clone lacks either commit.
 * Closed PRs that were not merged are listed with merged = false (rejected as not_merged, no extra calls).
 */
export class GitHubSource implements Source {
  readonly kind = "github" as const;
  readonly repo: string;
  private readonly owner: string;
  private readonly name: string;
  private readonly api: GitHubClient;
  private readonly clone: GitRepo | undefined;

  constructor(opts: GitHubSourceOptions) {
    this.repo = opts.repo;
    [this.owner, this.name] = opts.repo.split("/") as [string, string];
    this.api = makeGitHubClient(opts);
    this.clone = opts.clone;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      const status = (e as { status?: number }).status;
      const msg = e instanceof Error ? e.message : String(e);
      if (status === 404 && what === "list") {
        throw new SourceError("input", `GitHub repository ${this.repo} not found (404)`);
      }
      throw new SourceError(
        "unavailable",
        `GitHub API: ${what} failed${status ? ` (${status})` : ""}: ${msg}`,
      );
    }
  }

  async *listCandidates(opts: ListOptions = {}): AsyncGenerator<Candidate> {
    const since = opts.since ? Date.parse(opts.since) : undefined;
    const pages = this.api.paginate.iterator("GET /repos/{owner}/{repo}/pulls", {
      owner: this.owner,
      repo: this.name,
      state: "closed",
      sort: "updated",
      direction: "desc",
      per_page: 100,
    });
    const it = pages[Symbol.asyncIterator]();
    let yielded = 0;
    while (true) {
      const page = await this.call("list", () => it.next());
      if (page.done) return;
      for (const pr of page.value.data as unknown as ApiPull[]) {
        if (opts.signal?.aborted) return;
        if (opts.limit !== undefined && yielded >= opts.limit) return;
        if (since !== undefined && Date.parse(pr.updated_at) < since) return;
        if (since !== undefined && pr.merged_at && Date.parse(pr.merged_at) < since) continue;
        const id = instanceId(this.repo, pr.number);
        if (opts.skip?.(id)) continue;
        yield pr.merged_at ? await this.enrich(pr, id) : this.unmerged(pr, id);
        yielded++;
      }
    }
  }

  private unmerged(pr: ApiPull, id: string): Candidate {
    return {
      ...this.common(pr, id),
      merged: false,
      base_commit: pr.base.sha,
      resolved_commit: pr.head.sha,
      linked_issues: [],
      changed_files: [],
      languages: [],
      merge_style: "api",
    };
  }

  private common(pr: ApiPull, id: string) {
    return {
      id,
      repo: this.repo,
      number: pr.number,
      title: pr.title,
      body: pr.body ?? "",
      created_at: pr.created_at,
      merged_at: pr.merged_at,
      source: "github" as const,
    };
  }

  private async enrich(pr: ApiPull, id: string): Promise<Candidate> {
    const files = (
      await this.call(`files of #${pr.number}`, () =>
        this.api.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
          owner: this.owner,
          repo: this.name,
          pull_number: pr.number,
          per_page: 100,
        }),
      )
    ).map((f) => toChangedFile(f as unknown as ApiFile));
    const refs = parseIssueRefs(`${pr.title}\n${pr.body ?? ""}`, this.repo, [pr.number]);
    const issues: LinkedIssue[] = [];
    for (const r of refs) {
      if (!r.closing) {
        issues.push({ number: r.number, title: "", body: "", closing: false });
        continue;
      }
      const issue = await this.issue(r.number);
      if (issue) issues.push({ number: r.number, ...issue, closing: true });
    }
    const { base, resolved, style } = await this.commits(pr);
    return {
      ...this.common(pr, id),
      merged: true,
      base_commit: base,
      resolved_commit: resolved,
      linked_issues: issues,
      changed_files: files,
      languages: rankLanguages(files.map((f) => ({ path: f.path, kind: f.kind ?? "other" }))),
      merge_style: style,
    };
  }

  /** An issue's title and body; undefined when it does not exist or is itself a pull request. */
  private async issue(n: number): Promise<{ title: string; body: string } | undefined> {
    try {
      const { data } = await this.api.request("GET /repos/{owner}/{repo}/issues/{issue_number}", {
        owner: this.owner,
        repo: this.name,
        issue_number: n,
      });
      if (data.pull_request) return undefined;
      return { title: data.title, body: data.body ?? "" };
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 404 || status === 410) return undefined;
      return this.call(`issue #${n}`, () => Promise.reject(e));
    }
  }

  private async commits(
    pr: ApiPull,
  ): Promise<{ base: string; resolved: string; style: Candidate["merge_style"] }> {
    const merge = pr.merge_commit_sha ?? pr.head.sha;
    const parents = this.clone && pr.merge_commit_sha ? await this.clone.parents(merge) : undefined;
    if (parents?.length === 2) return { base: parents[0]!, resolved: merge, style: "merge" };
    if (parents?.length === 1) return { base: parents[0]!, resolved: merge, style: "squash" };
    return { base: pr.base.sha, resolved: merge, style: "api" };
  }

  diff(c: Candidate): Promise<Buffer> {
    if (!this.clone) throw new SourceError("input", "the GitHub source needs a local clone to produce diffs");
    return this.clone.diff(c.base_commit, c.resolved_commit);
  }

  readFile(commit: string, path: string): Promise<Buffer | undefined> {
    return this.clone ? this.clone.readFile(commit, path) : Promise.resolve(undefined);
  }

  async close(): Promise<void> {
    await this.clone?.close();
  }
}

function toChangedFile(f: ApiFile): ChangedFile {
  const path = f.filename;
  return {
    path,
    ...(f.previous_filename ? { old_path: f.previous_filename } : {}),
    status: FILE_STATUS[f.status] ?? "modified",
    additions: f.additions,
    deletions: f.deletions,
    // The files API has no binary flag: a change without a patch and without line counts is binary.
    binary: f.patch === undefined && f.changes === 0 && f.status !== "renamed",
    submodule: false,
    kind: classifyPath(path),
  };
}
