/**
 * Errors a source raises. `input`: the thing named is not usable (not a repository, a shallow clone,
 * a malformed name). `unavailable`: something outside did not answer (clone URL, API, rate limit).
 * The CLI maps them to its exit codes; the mine stage never turns them into rejections.
 */
export class SourceError extends Error {
  readonly kind: "input" | "unavailable";
  constructor(kind: "input" | "unavailable", message: string) {
    super(message);
    this.name = "SourceError";
    this.kind = kind;
  }
}

/** A commit a candidate names is not in the repository used for diffs (→ rejection `no_base_commit`). */
export class MissingCommitError extends Error {
  constructor(sha: string, where: string) {
    super(`commit ${sha} is not in ${where}`);
    this.name = "MissingCommitError";
  }
}
