/**
 * Static rules over a verifier's text. Each says what it saw, at which line. Two kinds:
 * - decisive rules: no honest verifier does what they saw (reading the gold or candidate patch, fetching the
 *   upstream repository, inlining a line only the fix adds), so they decide alone;
 * - evidence rules: honest verifiers rarely do what they saw (grepping the source, deciding from git), but
 *   the text alone cannot tell; an audit weighs them with behaviour (src/checks/audit.ts). The builder's
 *   and validation's gates still fail on them: there the verifier is ours, and rewriting it is cheap.
 * Written the way others write them, honest verifiers print SWE-bench's `>>>>> Start Test Output` markers,
 * log `git status || true`, restore test files with `git checkout <base> -- <tests>`, apply their own copy
 * of the test patch, decide from a JUnit or TAP report, or grep the runner's output: no rule fires on these.
 */
import type { CheckVerdict } from "../records/index.ts";
import { isRunnerLine, logicalLines, type ShellLine, unwrap, words } from "./shell.ts";
import { swallowedFailure } from "./static-exit.ts";
import { gitState } from "./static-git.ts";
import { appliesPatch, goldPatch, network, upstream } from "./static-patch.ts";
import { printsResults } from "./static-print.ts";
import { at, eachCommand, norm, type StaticContext, type StaticRule, TEST_PATH } from "./static-rule.ts";

export type { StaticContext, StaticRule } from "./static-rule.ts";

const READERS =
  /^(?:grep|egrep|fgrep|zgrep|rg|ag|ack|cat|tac|head|tail|less|more|diff|cmp|comm|sed|awk|gawk|perl|md5sum|sha\d*sum|cksum|wc|strings|xxd|od|hexdump|stat|find|file|python[\d.]*|node|ruby)$/;
/** Commands whose here-document is a program they run (its text may read files). */
const INTERPRETERS = /^(?:python[\d.]*|node|ruby|perl|php|bash|sh|zsh)$/;

function mentionsFile(cmd: string, files: string[]): string | undefined {
  const ws = words(cmd).map(norm);
  for (const f of files) {
    const base = f.split("/").pop() ?? f;
    if (cmd.includes(f) || ws.some((w) => w === f || w.endsWith(`/${f}`))) return f;
    if (base.length >= 4 && ws.some((w) => w === base)) return f;
  }
  return undefined;
}

const readsSource: StaticRule = {
  id: "reads-source",
  description: "reads, greps, diffs or hashes non-test source instead of running it",
  test: (lines, ctx) => [
    ...lines
      .filter((l) => l.heredoc && isProgram(l.opener ?? "") && mentionsFile(l.text, ctx.code_files))
      .map((l) => at(l, `the embedded program reads source file ${mentionsFile(l.text, ctx.code_files)}`)),
    ...eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      const tool = ws[0]?.split("/").pop() ?? "";
      if (ws[0] === "git" && ws[1] === "grep") return "searches the repository with git grep";
      if (!READERS.test(tool)) return undefined;
      if (/^(?:python[\d.]*|node|ruby|perl)$/.test(tool) && !ws.some((w) => /^-\w*[ce]$/.test(w)))
        return undefined;
      const file = mentionsFile(cmd, ctx.code_files);
      if (file) return `${tool} reads source file ${file}`;
      const recursive =
        /^(?:rg|ag|ack)$/.test(tool) ||
        (/grep$/.test(tool) && ws.some((w) => /^-\w*[rR]|^--recursive/.test(w)));
      if (recursive) {
        const paths = ws
          .slice(1)
          .filter((w) => !w.startsWith("-"))
          .slice(1);
        if (paths.length === 0 || paths.some((p) => !TEST_PATH.test(p) && !/^\/tmp\//.test(p)))
          return `${tool} searches source directories`;
      }
      return undefined;
    }),
  ],
};

/** The here-document is a program its command runs: `python - <<EOF`, `bash <<EOF`, `cat > x.py <<EOF`. */
function isProgram(opener: string): boolean {
  const tool = words(unwrap(opener))[0]?.split("/").pop() ?? "";
  return INTERPRETERS.test(tool) || (/^(?:cat|tee)$/.test(tool) && /\.(?:py|js|sh|rb|pl)\b/.test(opener));
}

/** A line that can end the script with a failure: `exit 1`, `exit $rc`, errexit. */
const canFail = (l: ShellLine) =>
  /\bexit\s+(?:[1-9]|\$|"\$)|\bset\s+-\w*e|\breturn\s+(?:[1-9]|\$)/.test(l.text);

const unconditionalExit: StaticRule = {
  id: "unconditional-exit",
  description: "exits 0 or ends with `true` whatever came before",
  test: (all) => {
    const lines = all.filter((l) => !l.heredoc);
    const out: string[] = [];
    for (const [i, l] of lines.entries()) {
      const decided = lines.slice(0, i).some(canFail);
      if (l.depth === 0 && /^exit\s+0\s*$/.test(l.text) && !decided)
        out.push(at(l, "`exit 0` at top level, and nothing before it can exit non-zero"));
      if (/\btrap\s+['"]?[^'"]*\bexit\s+0/.test(l.text))
        out.push(at(l, "a trap turns every exit into exit 0"));
    }
    const last = lines.at(-1);
    const errexit = lines.some((l) => /\bset\s+-\w*e/.test(l.text));
    if (last && /^(?:true|:)$/.test(last.text) && !errexit)
      out.push(at(last, "the script ends with `true`, so it exits 0"));
    return out;
  },
};

const noRunner: StaticRule = {
  id: "no-runner",
  description: "runs no known test runner",
  test: (lines) =>
    lines.some((l) => !l.heredoc && isRunnerLine(l.text))
      ? []
      : ["no known test runner command in the script"],
};

const SKIP_INSERT =
  /\b(?:it|test|describe)\.skip\b|\bxit\(|@(?:pytest\.mark\.)?skip|\bunittest\.skip|t\.Skip\(|#\[ignore\]|@Disabled|@Ignore|def skip_|GTEST_SKIP|DISABLED_/;
const REPORT = /\.(?:xml|json|log|txt|trx|html|out|tap)$/i;
const testsTampered: StaticRule = {
  id: "tests-tampered",
  description: "deletes, edits, deselects or skips the task's tests",
  test: (lines, ctx) =>
    eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      const tool = ws[0] ?? "";
      const isTest = (w: string) => {
        const n = norm(w);
        const dir = n.replace(/\/?\*?$/, "");
        if (ctx.test_files.includes(n) || ctx.test_files.some((f) => dir && f.startsWith(`${dir}/`)))
          return true;
        return TEST_PATH.test(n) && !REPORT.test(n); // reports are not tests
      };
      if (
        /^(?:rm|unlink|mv|truncate|shred)$/.test(tool) &&
        ws.slice(1).some((w) => !w.startsWith("-") && isTest(w))
      )
        return `${tool} on test files`;
      if (/^(?:sed|perl)$/.test(tool) && ws.some((w) => /^-\w*i/.test(w)) && ws.slice(1).some(isTest))
        return `${tool} -i edits test files`;
      if (/^(?:sed|perl|echo|printf|cat|tee)$/.test(tool) && SKIP_INSERT.test(cmd))
        return "inserts a skip marker";
      if (/(?:^|\s)--deselect\b/.test(cmd)) return "deselects tests";
      if (/(?:^|\s)-k\s*['"]?\s*not\b|(?:^|\s)-k\s*['"][^'"]*\bnot\b/.test(cmd))
        return "excludes tests with -k not";
      const ignored = /--ignore(?:-glob)?[=\s](\S+)/.exec(cmd)?.[1]?.replace(/['"]/g, "");
      if (ignored && ctx.test_files.some((f) => norm(ignored).startsWith(f) || f.startsWith(norm(ignored))))
        return `ignores the task's test path ${ignored}`;
      const redirect = /(?:^|[^>&\d])>>?\s*(\S+)/.exec(cmd)?.[1];
      if (redirect && ctx.test_files.includes(norm(redirect))) return `overwrites test file ${redirect}`;
      return undefined;
    }),
};

const modifiesSource: StaticRule = {
  id: "modifies-source",
  description: "edits or replaces non-test source files at evaluation time",
  test: (lines, ctx) =>
    eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      const tool = ws[0] ?? "";
      const file = mentionsFile(cmd, ctx.code_files);
      if (!file) return undefined;
      if (/^(?:sed|perl)$/.test(tool) && ws.some((w) => /^-\w*i/.test(w))) return `${tool} -i edits ${file}`;
      if (/^(?:cp|mv|install|ln|rsync|tee|truncate|rm|dd)$/.test(tool)) return `${tool} touches ${file}`;
      const redirect = /(?:^|[^>&\d])>>?\s*(\S+)/.exec(cmd)?.[1];
      if (redirect && ctx.code_files.includes(norm(redirect))) return `writes into ${file}`;
      return undefined;
    }),
};

/** The rule table; order is the report order. */
export const STATIC_RULES: readonly StaticRule[] = [
  noRunner,
  readsSource,
  gitState,
  unconditionalExit,
  swallowedFailure,
  upstream,
  network,
  goldPatch,
  appliesPatch,
  printsResults,
  testsTampered,
  modifiesSource,
];

/** The ids of the rules that decide alone. */
export const DECISIVE_RULES: ReadonlySet<string> = new Set(
  STATIC_RULES.filter((r) => r.decisive).map((r) => `static:${r.id}`),
);

/** Runs every static rule on an evaluation.sh text; one CheckVerdict per rule ("static:<id>"). */
export function runStaticChecks(script: string, ctx: StaticContext): CheckVerdict[] {
  const lines = logicalLines(script).filter((l) => !/^#!/.test(l.text));
  return STATIC_RULES.map((rule) => {
    const reasons = rule.test(lines, ctx, script);
    return {
      check: `static:${rule.id}`,
      kind: "static" as const,
      passed: reasons.every((r) => /^(?:line \d+: )?warning:/.test(r)),
      reasons,
    };
  });
}
