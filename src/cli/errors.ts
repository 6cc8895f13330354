/**
 * The one place where an error that reached the CLI becomes an exit code and one line on the console:
 * store, filesystem, engine, network and Redis errors are each mapped to the README's table. The stack goes
 * to the log at debug level (SWEU_LOG=debug), never to the console as the message.
 */
import { InputError } from "../evaluate/inputs.ts";
import { SourceError } from "../mine/errors.ts";
import { ModelError } from "../model/model.ts";
import { isDiskFull } from "../run/disk.ts";
import { StoreError } from "../store/open.ts";
import { log } from "../util/log.ts";
import { CliError, Exit } from "./exit-codes.ts";

export interface Mapped {
  code: number;
  message: string;
}

const NETWORK = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const NOT_WRITABLE = new Set(["EACCES", "EPERM", "EROFS"]);
const BAD_PATH = new Set(["ENOENT", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "ELOOP", "EEXIST", "ENOTEMPTY"]);

/** The first line of a message, without a trailing stack or a wall of text. */
export function firstLine(text: string, max = 400): string {
  const line = text.trim().split("\n")[0]?.trim() ?? "";
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function errnoOf(e: unknown): { code?: string; path?: string; syscall?: string } {
  let cur = e as { code?: string; path?: string; syscall?: string; cause?: unknown } | undefined;
  for (let depth = 0; cur && depth < 4; depth++) {
    if (typeof cur.code === "string") return cur;
    cur = cur.cause as typeof cur;
  }
  return {};
}

function fsMessage(code: string, path: string | undefined, syscall: string | undefined, msg: string): string {
  const where = path ? `${path}: ` : "";
  if (NOT_WRITABLE.has(code))
    return `${where}permission denied or read-only (${code}${syscall ? `, ${syscall}` : ""})`;
  if (code === "ENAMETOOLONG") return `${where}file name too long`;
  if (code === "ENOENT") return path ? `${path}: no such file or folder` : firstLine(msg);
  if (code === "EISDIR") return `${where}is a folder, expected a file`;
  if (code === "ENOTDIR") return `${where}a part of the path is a file, not a folder`;
  // mkdir over a file (an --out that names a file): what is in the way, not the syscall's words.
  if (code === "EEXIST" && syscall === "mkdir") return `${where}is a file, not a folder`;
  return firstLine(msg);
}

/** Errors of the outside world by their kind (engine, Redis, network); undefined when not one of them. */
function outside(e: Error, code: string | undefined): string | undefined {
  const msg = e.message;
  if (code && NETWORK.has(code)) return `network unreachable: ${firstLine(msg)}`;
  if (/container engine .* not found|^(podman|docker) \w+ failed/i.test(msg))
    return `container engine: ${firstLine(msg)}`;
  if (e.name === "MaxRetriesPerRequestError" || /redis|Connection is closed/i.test(msg))
    return `Redis unavailable: ${firstLine(msg)}`;
  if (e instanceof ModelError) return `model endpoint: ${firstLine(msg)}`;
  if (e.name === "TypeError" && msg === "fetch failed") return `network unreachable: ${firstLine(msg)}`;
  return undefined;
}

/** Map an error to an exit code and one line. `signal` is set when the process is being interrupted. */
export function mapError(e: unknown, signal?: NodeJS.Signals): Mapped {
  if (signal)
    return {
      code: signal === "SIGTERM" ? Exit.terminated : Exit.interrupted,
      message: `stopped by ${signal}`,
    };
  if (e instanceof CliError) return { code: e.exitCode, message: firstLine(e.message) };
  if (e instanceof StoreError) return { code: Exit.input, message: firstLine(e.message) };
  if (e instanceof SourceError)
    return { code: e.kind === "unavailable" ? Exit.unavailable : Exit.input, message: firstLine(e.message) };
  if (e instanceof InputError) return { code: Exit.input, message: firstLine(e.message) };
  if (!(e instanceof Error)) return { code: Exit.failed, message: `internal error: ${firstLine(String(e))}` };
  const { code, path, syscall } = errnoOf(e);
  const text = `${e.message} ${code ?? ""}`;
  if (code === "ENOSPC" || code === "SQLITE_FULL" || isDiskFull(text))
    return {
      code: Exit.unavailable,
      message: `the disk is full (${firstLine(e.message)}). Everything recorded so far is kept: free some space and run the same command again to go on.`,
    };
  const away = outside(e, code);
  if (away) return { code: Exit.unavailable, message: away };
  if (code && (NOT_WRITABLE.has(code) || BAD_PATH.has(code)))
    return { code: Exit.input, message: fsMessage(code, path, syscall, e.message) };
  if (code?.startsWith("SQLITE_"))
    return { code: Exit.input, message: `store: ${firstLine(e.message)} (${code})` };
  return {
    code: Exit.failed,
    message: `internal error: ${firstLine(e.message)} (SWEU_LOG=debug shows where)`,
  };
}

/** Print the one line for `e` and log its stack at debug level; returns the exit code. */
export function report(e: unknown, signal?: NodeJS.Signals): number {
  const m = mapError(e, signal);
  log.debug({ err: e }, "error at the CLI boundary");
  process.stderr.write(`swe-universe: ${m.message}\n`);
  return m.code;
}
