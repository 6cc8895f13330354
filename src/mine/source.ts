import type { Candidate } from "../records/candidate.ts";

export interface ListOptions {
  /** Stop after this many merged candidates (closed-unmerged PRs met on the way are listed, not counted). */
  limit?: number;
  /** Only PRs merged (or, for git, committed) at or after this date (ISO or anything `Date` parses). */
  since?: string;
  /**
   * Called with a candidate id before the source spends work enriching it (API calls for files and issues);
   * returning true skips it. The mine stage passes "already has an outcome" here so a rerun is cheap.
   */
  skip?: (id: string) => boolean;
  signal?: AbortSignal;
}

/** The diff of a candidate: raw bytes, so non-UTF-8 and binary content stay exact. */
export type DiffBytes = Buffer;

/**
 * Where merged PRs come from. A source lists candidates and can give the unified diff
 * (`git diff --binary` format) between a candidate's base and resolved commits.
 */
export interface Source {
  readonly kind: "git" | "github";
  /** owner/name of the repository mined. */
  readonly repo: string;
  listCandidates(opts?: ListOptions): AsyncIterable<Candidate>;
  diff(candidate: Candidate): Promise<DiffBytes>;
  /** File content at a commit, or undefined when absent. Used for content rules (Rust `#[cfg(test)]`). */
  readFile?(commit: string, path: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}
