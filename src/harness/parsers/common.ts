import type { TestResult, TestStatus } from "../../records/index.ts";

/** Worse statuses win when one log reports a name twice (a test that passed then errored in teardown). */
const RANK: Record<TestStatus, number> = { SKIPPED: 0, PASSED: 1, FAILED: 2, ERROR: 3 };

export interface Collector {
  add(name: string, status: TestStatus): void;
  has(name: string): boolean;
  results(): TestResult[];
}

/** Accumulates results in first-seen order; duplicates keep the worst status. Empty names are dropped. */
export function collector(): Collector {
  const seen = new Map<string, TestStatus>();
  return {
    add(name, status) {
      const n = name.trim();
      if (!n) return;
      const prev = seen.get(n);
      if (prev === undefined || RANK[status] > RANK[prev]) seen.set(n, status);
    },
    has: (name) => seen.has(name.trim()),
    results: () => [...seen].map(([name, status]) => ({ name, status })),
  };
}

/** Removes ANSI colour/cursor sequences and turns CR line ends into LF. */
export function stripAnsi(text: string): string {
  return text
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, "")
    .replace(/\r\n?/g, "\n");
}

export function lines(log: string): string[] {
  return stripAnsi(log).split("\n");
}

export function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/** Trailing durations runners print after a name: " (12 ms)", " (0.01s)", " 12ms", " [1.2s]". */
export function stripDuration(name: string): string {
  return name
    .replace(/\s+\(\d+(?:\.\d+)?\s*(?:ms|s|sec|µs|us)\)\s*$/, "")
    .replace(/\s+\d+(?:\.\d+)?\s*(?:ms|s)\s*$/, "")
    .trimEnd();
}

/**
 * Names of an indentation-nested report (jest, mocha): a title at indent `base + 2k` is a group at depth k;
 * a test's full name is its open groups and its own title joined with `sep`.
 */
export function indentTree(base: number, sep: string) {
  const stack: string[] = [];
  const depth = (indent: number) => Math.max(0, Math.floor((indent - base) / 2));
  return {
    group(indent: number, title: string) {
      const d = depth(indent);
      stack.length = Math.min(stack.length, d);
      while (stack.length < d) stack.push("");
      stack.push(title);
    },
    name(indent: number, title: string): string {
      const d = depth(indent);
      stack.length = Math.min(stack.length, d);
      return [...stack.filter((s) => s !== ""), title].join(sep);
    },
    reset() {
      stack.length = 0;
    },
  };
}
