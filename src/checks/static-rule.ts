/** What every static rule shares (src/checks/static.ts holds the table): its shape, the task context, helpers. */
import { commandSites, type ShellLine } from "./shell.ts";

/** What the rules know about the task besides the script. Paths are relative to the repository root. */
export interface StaticContext {
  test_files: string[];
  /** Non-test source paths (what the gold patch touches, at least). */
  code_files: string[];
  gold_patch: string;
  test_patch?: string;
  /** owner/name of the repository, when known: fetching it is fetching the fix. */
  repo?: string;
}

export interface StaticRule {
  id: string;
  description: string;
  /** Decides alone: no honest verifier does what it saw. The other rules are evidence. */
  decisive?: boolean;
  /** Reasons the script breaks the rule; "warning: …" reasons do not fail the check. */
  test(lines: ShellLine[], ctx: StaticContext, script: string): string[];
}

export const TEST_PATH =
  /(?:^|\/)(?:tests?|spec|specs|__tests__|testing|testdata|test_\w+|\w+_test|\w+\.test|\w+\.spec)(?:\/|\.|$)/i;

export const at = (l: ShellLine, msg: string) => `line ${l.n}: ${msg}`;
export const norm = (p: string) => p.replace(/^(?:\.\/|\/testbed\/)/, "");

/** Runs `f` on every simple command (substitutions too); its answers become "line N: …" reasons. */
export function eachCommand(lines: ShellLine[], f: (cmd: string, l: ShellLine) => string | undefined) {
  const out: string[] = [];
  for (const site of commandSites(lines)) {
    const r = f(site.cmd, site.line);
    if (r) out.push(at(site.line, r));
  }
  return out;
}
