import type { Candidate, ChangedFile, LinkedIssue } from "../records/candidate.ts";
import { instanceId } from "../records/common.ts";
import { classifyPath, rankLanguages } from "./classify.ts";
import { SourceError } from "./errors.ts";
import type { GitRepo } from "./git.ts";
import {
  type GitHubClient,
  type GitHubClientOptions,
  makeGitHubClient,
  rateLimitMessage,
} from "./github-client.ts";
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

interface ApiTimelineEvent {
  event: string;
  source?: {
    type?: string;
    issue?: {
      number: number;
      title?: string;
      body?: string | null;
      state?: string;
      state_reason?: string | null;
      closed_at?: string | null;
      pull_request?: unknown;
      repository?: { full_name?: string };
    };
  };
}

interface ApiComment {
  body?: string | null;
  created_at: string;
}

/** An issue closed this close to the merge was closed by it (GitHub closes linked issues within seconds). */
const CLOSED_BY_MERGE_MS = 5 * 60_000;

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
      const limited = rateLimitMessage(e);
      if (limited) throw new SourceError("unavailable", `${limited} (while fetching ${what}: ${msg})`);
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
        // Closed-unmerged PRs are listed (they become not_merged rejections, no extra call) but --limit
        // counts merged PRs, as the git source does.
        if (!pr.merged_at) {
          yield this.unmerged(pr, id);
          continue;
        }
        yield await this.enrich(pr, id);
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
    const linked = await this.linkedByTimeline(pr);
    const issues: LinkedIssue[] = [];
    for (const r of refs) {
      if (!r.closing) {
        // A mention in the body may still be the issue the merge closed (linked in the sidebar).
        const closedHere = linked.find((l) => l.number === r.number && l.closing);
        issues.push(closedHere ?? { number: r.number, title: "", body: "", closing: false });
        continue;
      }
      const issue = await this.issue(r.number);
      if (issue) issues.push({ number: r.number, ...issue, closing: true });
    }
    for (const l of linked) if (!issues.some((i) => i.number === l.number)) issues.push(l);
    const hints = await this.hints(issues, pr.created_at);
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
      ...(hints ? { hints_text: hints } : {}),
    };
  }

  /**
   * Issues linked outside the PR's text, from the PR's timeline. An issue linked in the "Development"
   * sidebar (or closed by a keyword in a commit) is closed by the merge, and GitHub records the link back as
   * a `cross-referenced` event whose source is that issue. The REST `connected` event itself names no issue
   * (only GraphQL's closingIssuesReferences does), so the rule is: an issue of this repository that refers
   * to the PR and was closed as completed within minutes of the merge is a closing issue; any other issue
   * that refers to it is a mention. Issue text comes with the event, so this costs one call per PR.
   */
  private async linkedByTimeline(pr: ApiPull): Promise<LinkedIssue[]> {
    let events: ApiTimelineEvent[];
    try {
      events = (await this.api.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/timeline", {
        owner: this.owner,
        repo: this.name,
        issue_number: pr.number,
        per_page: 100,
      })) as unknown as ApiTimelineEvent[];
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 404 || status === 410) return []; // older GitHub Enterprise: no timeline
      return this.call(`timeline of #${pr.number}`, () => Promise.reject(e));
    }
    const merged = Date.parse(pr.merged_at ?? "");
    const out = new Map<number, LinkedIssue>();
    for (const ev of events) {
      const issue = ev.event === "cross-referenced" ? ev.source?.issue : undefined;
      if (!issue || issue.pull_request || issue.number === pr.number) continue;
      const from = issue.repository?.full_name;
      if (from && from.toLowerCase() !== this.repo.toLowerCase()) continue;
      const closedAt = Date.parse(issue.closed_at ?? "");
      const closing =
        issue.state === "closed" &&
        issue.state_reason !== "not_planned" &&
        Math.abs(closedAt - merged) <= CLOSED_BY_MERGE_MS;
      const prev = out.get(issue.number);
      if (prev?.closing) continue;
      out.set(
        issue.number,
        closing
          ? { number: issue.number, title: issue.title ?? "", body: issue.body ?? "", closing: true }
          : { number: issue.number, title: "", body: "", closing: false },
      );
    }
    return [...out.values()];
  }

  /**
   * SWE-bench's hints_text: the comments on the closing issues written before the PR was opened (SWE-bench
   * cuts at the PR's first commit; the opening date needs no extra call and is at most as late), oldest
   * first, joined by newlines. Undefined when there are none.
   */
  private async hints(issues: LinkedIssue[], prCreated: string): Promise<string | undefined> {
    const cutoff = Date.parse(prCreated);
    const texts: string[] = [];
    for (const i of issues) {
      if (!i.closing || !(i.title.trim() || i.body.trim())) continue;
      let comments: ApiComment[];
      try {
        comments = (await this.api.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
          owner: this.owner,
          repo: this.name,
          issue_number: i.number,
          per_page: 100,
        })) as unknown as ApiComment[];
      } catch (e) {
        const status = (e as { status?: number }).status;
        if (status === 404 || status === 410) continue;
        return this.call(`comments of #${i.number}`, () => Promise.reject(e));
      }
      for (const c of comments) {
        if (Date.parse(c.created_at) < cutoff && c.body?.trim()) texts.push(c.body);
      }
    }
    return texts.length > 0 ? texts.join("\n") : undefined;
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

  /** The clone diffs come from (the pipeline builds from it). */
  get git(): GitRepo | undefined {
    return this.clone;
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
