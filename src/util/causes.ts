/**
 * Typed causes of infrastructure failures, set where the cause is known (an errno, SQLite's code, the
 * container engine's own error message), instead of regexes over free text that also holds test output:
 * a failing suite that prints "ENOSPC" is a failing suite, not a full disk.
 */
export type Cause = "disk_full" | "engine" | "network" | "source" | "registry";

/** An error of the machine, not of the task: never recorded as a task's rejection. */
export class InfraError extends Error {
  readonly kind: Cause;
  constructor(message: string, kind: Cause) {
    super(message);
    this.name = "InfraError";
    this.kind = kind;
  }
}

/** Words for a full disk or quota in messages of the kernel, SQLite, podman, docker, git and pip. */
const FULL =
  /no space left on device|\bENOSPC\b|SQLITE_FULL|database or disk is full|disk quota exceeded|\bEDQUOT\b|not enough free space|insufficient space/i;

/** Whether a message *from the infrastructure itself* (an engine's error line, an errno text) says the disk is full. */
export function saysDiskFull(infraMessage: string | undefined): boolean {
  return !!infraMessage && FULL.test(infraMessage);
}

/** The cause of a thrown error, when it carries one: an errno, a SQLite code, an InfraError. */
export function causeOf(e: unknown): Cause | undefined {
  if (e instanceof InfraError) return e.kind;
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL") return "disk_full";
  return undefined;
}

/**
 * git's own words for a repository that lacks objects it refers to (a clone with missing objects, a snapshot
 * without its largest blobs, a corrupt pack): the source is broken, not the task.
 */
const BROKEN_SOURCE =
  /unable to read [0-9a-f]{7,40}|missing (?:blob|tree|commit) object|bad object [0-9a-f]{7,40}|is not a (?:tree|commit) object|did not receive expected object|packed object [0-9a-f]+ .*is corrupt|fatal: loose object [0-9a-f]+ .*is corrupt|unable to find [0-9a-f]{40}|fatal: not a valid object name/i;

/** Whether a message *from git* says the repository lacks objects (or has corrupt ones). */
export function saysSourceBroken(gitMessage: string | undefined): boolean {
  return !!gitMessage && BROKEN_SOURCE.test(gitMessage);
}

/** The engine's own error lines at the end of a build log (after the steps' output): what it says went wrong. */
export function engineErrorLines(log: string): string {
  const lines = log.trimEnd().split("\n").slice(-6);
  return lines.filter((l) => /^(?:Error|ERROR|error)(?::|\s)/.test(l.trim())).join("\n");
}
