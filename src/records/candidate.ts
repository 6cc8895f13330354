import { z } from "zod";
import { Language, RepoName, Sha } from "./common.ts";

/** How a changed file is counted when a PR is split into test patch and fix patch. */
export const FileKind = z.enum(["test", "code", "other"]);
export type FileKind = z.infer<typeof FileKind>;

export const FileStatus = z.enum(["added", "modified", "deleted", "renamed", "copied", "type_changed"]);

export const ChangedFile = z.object({
  path: z.string(),
  old_path: z.string().optional(),
  status: FileStatus,
  additions: z.number().int().nonnegative(),
  deletions: z.number().int().nonnegative(),
  binary: z.boolean().default(false),
  submodule: z.boolean().default(false),
  /** Filled by the splitter. */
  kind: FileKind.optional(),
  language: Language.optional(),
});
export type ChangedFile = z.infer<typeof ChangedFile>;

export const LinkedIssue = z.object({
  number: z.number().int().positive(),
  title: z.string().default(""),
  body: z.string().default(""),
  /** true when the PR says it closes the issue ("fixes #N"), false for a plain mention. */
  closing: z.boolean().default(true),
});
export type LinkedIssue = z.infer<typeof LinkedIssue>;

/** One merged PR, as found by a source. */
export const Candidate = z.object({
  id: z.string(),
  repo: RepoName,
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().default(""),
  merged: z.boolean(),
  created_at: z.string(),
  merged_at: z.string().nullable(),
  base_commit: Sha,
  resolved_commit: Sha,
  linked_issues: z.array(LinkedIssue).default([]),
  changed_files: z.array(ChangedFile).default([]),
  languages: z.array(Language).default([]),
  source: z.enum(["git", "github"]),
  /** How the PR was recognised in history: merge commit, squash "(#N)" title, or the API. */
  merge_style: z.enum(["merge", "squash", "api"]),
  /**
   * SWE-bench's hints: comments on the linked closing issues written before the PR was opened, joined by
   * newlines (GitHub source only; absent when unknown). Carried into Task.hints_text.
   */
  hints_text: z.string().optional(),
});
export type Candidate = z.infer<typeof Candidate>;
