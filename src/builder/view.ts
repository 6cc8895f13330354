/** Read-only view of a repository at one commit: what recipes look at to decide how to build. */
export interface RepoView {
  readonly files: readonly string[];
  has(path: string): boolean;
  read(path: string): string | undefined;
  /** First existing path among candidates. */
  first(...paths: string[]): string | undefined;
}
