/** Meaningful exit codes, shared by every verb. */
export const Exit = {
  ok: 0,
  /** The command ran but what it was asked to produce failed (e.g. evaluation found unresolved instances with --strict). */
  failed: 1,
  /** Bad arguments. */
  usage: 2,
  /** Bad input: not a repository, malformed file, unknown instance. */
  input: 3,
  /** Something outside: container engine missing, network or API unreachable, rate-limited. */
  unavailable: 4,
  /** Stopped by SIGINT (Ctrl-C). */
  interrupted: 130,
  /** Stopped by SIGTERM (a supervisor, `timeout`, a CI cancel). */
  terminated: 143,
} as const;

/** An error that knows its exit code and says plainly what is wrong. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = Exit.input) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}
