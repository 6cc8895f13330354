/**
 * One validation of options for every verb. Each option value is checked by the parser its attribute name
 * maps to (OPTION_TYPES), in a hook that runs after commander has parsed the command line and before the
 * verb's action: a bad value is refused with exit 2 and one line, before anything is created on disk.
 * Verbs still convert the (now known-good) strings they read; the rules live here only.
 */
import type { Command } from "commander";
import { BUILDER_KINDS } from "../builder/policies.ts";
import { RepoName } from "../records/common.ts";
import { SANDBOX_KINDS } from "../sandbox/index.ts";
import { STRATEGIES } from "../synth/strategies.ts";
import { parseSize } from "../util/size.ts";
import { CliError, Exit } from "./exit-codes.ts";

/** Returns the parsed value, or throws an Error whose message says what was expected. */
export type OptionParser = (text: string) => unknown;

const MAX_COUNT = 1_000_000;
const MAX_SECONDS = 30 * 24 * 3600;

/** A whole number from `min` to `max` ("3", not "3.5", "0", "abc" or "1e3"). */
export function count(min = 1, max = MAX_COUNT): OptionParser {
  return (text) => {
    if (!/^\s*\d+\s*$/.test(text)) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(text);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** A number ≥ 0 (decimals allowed), at most `max`. */
export function nonNegative(max: number): OptionParser {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n < 0 || n > max)
      throw new Error(`expected a number from 0 to ${max}`);
    return n;
  };
}

/** A number more than 0 and at most `max` (decimals allowed): minutes of a budget. */
export function positive(max: number): OptionParser {
  return (text) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max)
      throw new Error(`expected a number more than 0 and at most ${max}`);
    return n;
  };
}

/** A duration in seconds: a positive number, at most 30 days. */
export const seconds: OptionParser = (text) => {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || n > MAX_SECONDS)
    throw new Error(`expected a duration in seconds, more than 0 and at most ${MAX_SECONDS}`);
  return n;
};

export const size: OptionParser = (text) => parseSize(text);

/** A container's memory limit: a size of at least 6 MiB (the engines' own floor). */
export const memory: OptionParser = (text) => {
  const n = parseSize(text);
  if (n < 6 * 1024 ** 2) throw new Error("expected a memory size of at least 6M, such as 4g");
  return n;
};

/** A date or time `Date.parse` reads (2024-01-31, 2024-01-31T12:00:00Z). */
export const date: OptionParser = (text) => {
  const t = Date.parse(text);
  if (text.trim() === "" || Number.isNaN(t)) throw new Error("expected a date such as 2024-01-31");
  return new Date(t).toISOString();
};

export function oneOf(values: readonly string[]): OptionParser {
  return (text) => {
    if (!values.includes(text)) throw new Error(`expected one of ${values.join(", ")}`);
    return text;
  };
}

export function matching(re: RegExp, what: string): OptionParser {
  return (text) => {
    if (!re.test(text)) throw new Error(`expected ${what}`);
    return text;
  };
}

export function url(schemes: readonly string[]): OptionParser {
  return (text) => {
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new Error(`expected a URL (${schemes.map((s) => `${s}//…`).join(" or ")})`);
    }
    if (!schemes.includes(u.protocol)) throw new Error(`expected a ${schemes.join(" or ")} URL`);
    return text;
  };
}

/** A path or name: not empty, no NUL byte. */
export const nonEmpty: OptionParser = (text) => {
  if (text.trim() === "" || text.includes("\0")) throw new Error("expected a non-empty value");
  return text;
};

/** A comma-separated list with at least one non-empty item. */
export const list: OptionParser = (text) => {
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error("expected a comma-separated list of ids");
  return items;
};

/** A comma-separated list of synth strategies, each one of the table's (src/synth/strategies.ts). */
const strategies: OptionParser = (text) => {
  const names = list(text) as string[];
  const unknown = names.filter((n) => !STRATEGIES[n]);
  if (unknown.length)
    throw new Error(
      `unknown strategy ${unknown.join(", ")}: expected some of ${Object.keys(STRATEGIES).join(", ")}`,
    );
  return names;
};

const repoName: OptionParser = (text) => {
  if (!RepoName.safeParse(text).success || /(^|\/)\.+(\/|$)/.test(text))
    throw new Error("expected owner/name (letters, digits, . _ -)");
  return text;
};

const rate: OptionParser = (text) => {
  const m = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[1]) < 1 || Number(m[2]) <= 0) throw new Error("expected MAX/SECONDS, e.g. 5/1");
  return { max: Number(m[1]), durationMs: Number(m[2]) * 1000 };
};

/** A name that is also a safe file name: letters, digits, . _ -, not only dots, at most 100 characters. */
export const fileName = matching(
  /^(?!\.+$)[\w.-]{1,100}$/,
  "letters, digits, . _ - (at most 100, not only dots)",
);

/** "all", or a comma-separated list of ids. */
const idsOrAll: OptionParser = (text) => (text === "all" ? "all" : list(text));

/** Option attribute name (commander's camelCase) → its parser. Options missing here are flags or free text. */
export const OPTION_TYPES: Record<string, OptionParser> = {
  runs: count(1, 100),
  maxAttempts: count(1, 100),
  workers: count(1, 256),
  concurrency: count(1, 256),
  attempts: count(1, 100),
  limit: count(),
  maxFiles: count(),
  maxLines: count(),
  testTimeout: seconds,
  buildTimeout: seconds,
  timeout: seconds,
  lockTimeout: seconds,
  wait: nonNegative(MAX_SECONDS),
  loadProbeCpus: nonNegative(1024),
  minFreeDisk: size,
  pids: count(16, 4_194_304),
  memory,
  since: date,
  sandbox: oneOf(SANDBOX_KINDS),
  builder: oneOf(BUILDER_KINDS),
  repoName,
  redis: url(["redis:", "rediss:"]),
  baseUrl: url(["http:", "https:"]),
  apiUrl: url(["http:", "https:"]),
  rate,
  runId: fileName,
  queue: matching(/^[\w.-]{1,100}$/, "a queue name: letters, digits, . _ -"),
  only: list,
  instanceIds: list,
  runDir: nonEmpty,
  out: nonEmpty,
  harbor: nonEmpty,
  workDir: nonEmpty,
  dataset: nonEmpty,
  predictions: nonEmpty,
  script: nonEmpty,
  repo: nonEmpty,
  cloneUrl: nonEmpty,
  registry: nonEmpty,
  image: nonEmpty,
  model: nonEmpty,
  // universe: its inputs, the budgets per repository, the coordinator
  repos: nonEmpty,
  searchLanguage: matching(/^[\w.+#-][\w .+#-]{0,49}$/, "a language name such as go or c++"),
  searchStars: matching(/^(\d+|\d+\.\.\d+|[<>]=?\d+)$/, "a number of stars: 100, 10..500, >1000"),
  searchPushedSince: date,
  searchLicense: matching(/^[\w.-]{1,100}$/, "a license key such as mit or apache-2.0"),
  searchTopic: matching(/^[a-z0-9][a-z0-9-]{0,49}$/i, "a GitHub topic: letters, digits, -"),
  searchMax: count(1, 100_000),
  maxPrs: count(),
  maxBuilds: count(),
  maxMinutes: positive(MAX_SECONDS / 60),
  mining: count(1, 64),
  window: count(1, 100_000),
  strategies,
  synthStrategies: strategies,
  perStrategy: count(1, 1000),
  synthPerStrategy: count(1, 1000),
  maxEnvironments: count(),
  synthMaxEnvironments: count(),
  seed: nonEmpty,
  synthSeed: nonEmpty,
  // serve
  port: count(0, 65535),
  host: nonEmpty,
  token: nonEmpty,
  redisPrefix: matching(/^[\w.:-]{1,100}$/, "a key prefix: letters, digits, . _ : -"),
  advertise: url(["http:", "https:"]),
  maxSessions: count(1, 4096),
  maxGrading: count(1, 256),
  lifetime: seconds,
  idleTimeout: seconds,
  execTimeout: seconds,
  gradeTimeout: seconds,
  warm: count(0, 1024),
  warmMax: count(0, 4096),
  prewarm: idsOrAll,
  maxOutputBytes: size,
  maxFileBytes: size,
  maxUploadBytes: size,
};

/** Check every option value of the command about to run; a usage error (exit 2) names the first bad one. */
export function checkOptions(cmd: Command): void {
  for (const opt of cmd.options) {
    const key = opt.attributeName();
    const value = cmd.getOptionValue(key) as unknown;
    const parse = OPTION_TYPES[key];
    if (!parse || value === undefined || typeof value === "boolean") continue;
    try {
      parse(String(value));
    } catch (e) {
      throw new CliError(`${opt.long}: "${String(value)}": ${(e as Error).message}`, Exit.usage);
    }
  }
}

/** The parsed value of an option that `checkOptions` has already accepted. */
export function parsed<T>(key: keyof typeof OPTION_TYPES, text: string): T {
  return OPTION_TYPES[key]!(text) as T;
}
