import type { CheckVerdict } from "../records/index.ts";
import {
  commands,
  isRunnerCommand,
  isRunnerLine,
  logicalLines,
  type ShellLine,
  unwrap,
  words,
} from "./shell.ts";

/** What the rules know about the task besides the script. Paths are relative to the repository root. */
export interface StaticContext {
  test_files: string[];
  /** Non-test source paths (what the gold patch touches, at least). */
  code_files: string[];
  gold_patch: string;
  test_patch?: string;
}

export interface StaticRule {
  id: string;
  description: string;
  /** Reasons the script breaks the rule; "warning: …" reasons do not fail the check. */
  test(lines: ShellLine[], ctx: StaticContext, script: string): string[];
}

const READERS =
  /^(?:grep|egrep|fgrep|zgrep|rg|ag|ack|cat|tac|head|tail|less|more|diff|cmp|comm|sed|awk|gawk|perl|md5sum|sha\d*sum|cksum|wc|strings|xxd|od|hexdump|stat|find|file|python[\d.]*|node|ruby)$/;
const TEST_PATH =
  /(?:^|\/)(?:tests?|spec|specs|__tests__|testing|testdata|test_\w+|\w+_test|\w+\.test|\w+\.spec)(?:\/|\.|$)/i;

/** Lines that are commands (here-document bodies are data). */
const commandLines = (lines: ShellLine[]) => lines.filter((l) => !l.heredoc);
const at = (l: ShellLine, msg: string) => `line ${l.n}: ${msg}`;
const norm = (p: string) => p.replace(/^(?:\.\/|\/testbed\/)/, "");

function mentionsFile(cmd: string, files: string[]): string | undefined {
  const ws = words(cmd).map(norm);
  for (const f of files) {
    const base = f.split("/").pop() ?? f;
    if (cmd.includes(f) || ws.some((w) => w === f || w.endsWith(`/${f}`))) return f;
    if (base.length >= 4 && ws.some((w) => w === base)) return f;
  }
  return undefined;
}

function eachCommand(lines: ShellLine[], f: (cmd: string, l: ShellLine, sep: string) => string | undefined) {
  const out: string[] = [];
  for (const l of lines) {
    if (l.heredoc) continue;
    // Command substitutions run too: "$(md5sum src/x.py)", `grep … src`.
    const subs = [...l.text.matchAll(/\$\(([^()]*(?:\([^()]*\)[^()]*)*)\)|`([^`]*)`/g)].map(
      (m) => m[1] ?? m[2] ?? "",
    );
    for (const { cmd, sep } of [commands(l.text), ...subs.map(commands)].flat()) {
      const r = f(unwrap(cmd), l, sep);
      if (r) out.push(at(l, r));
    }
  }
  return out;
}

const readsSource: StaticRule = {
  id: "reads-source",
  description: "reads, greps, diffs or hashes non-test source instead of running it",
  test: (lines, ctx) => [
    ...lines
      .filter((l) => l.heredoc && mentionsFile(l.text, ctx.code_files))
      .map((l) => at(l, "embedded script reads source")),
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
        if (paths.length === 0 || paths.some((p) => !TEST_PATH.test(p)))
          return `${tool} searches source directories`;
      }
      return undefined;
    }),
  ],
};

const GIT_INSPECT =
  /^(?:log|diff|show|status|blame|rev-parse|reflog|rev-list|cat-file|ls-files|ls-tree|describe|shortlog|whatchanged|stash|checkout|switch|restore|reset|branch|tag|fsck|name-rev|for-each-ref|show-ref)$/;
const gitState: StaticRule = {
  id: "git-state",
  description: "inspects or changes git state (history, diff, refs) instead of running tests",
  test: (lines) => {
    const out = eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      if (ws[0] !== "git") return undefined;
      const sub = ws.slice(1).find((w, i, a) => !w.startsWith("-") && !/^-[Cc]$/.test(a[i - 1] ?? ""));
      return sub && GIT_INSPECT.test(sub) ? `runs git ${sub}` : undefined;
    });
    for (const l of lines)
      if (/(?:^|[\s'"=/])\.git\/(?!hub)/.test(l.text)) out.push(at(l, "reads the .git directory"));
    return out;
  },
};

const unconditionalExit: StaticRule = {
  id: "unconditional-exit",
  description: "exits 0 or ends with `true` regardless of the tests",
  test: (all) => {
    const lines = commandLines(all);
    const out: string[] = [];
    for (const l of lines) {
      if (l.depth === 0 && /^exit\s+0\s*$/.test(l.text)) out.push(at(l, "exit 0 at top level"));
      if (/\btrap\s+['"]?[^'"]*\bexit\s+0/.test(l.text)) out.push(at(l, "trap forces exit 0"));
    }
    const last = lines.at(-1);
    if (last && /^(?:true|:)$/.test(last.text)) out.push(at(last, "script ends with `true`"));
    return out;
  },
};

const MASK = /^(?:true|:|exit\s+0|echo\b.*|printf\b.*)$/;
const swallowedFailure: StaticRule = {
  id: "swallowed-failure",
  description:
    "the test runner's failure is swallowed (|| true, ; true, set +e without propagating, unguarded pipes)",
  test: (lines) => {
    const out: string[] = [];
    const pipefail = (i: number) =>
      lines
        .slice(0, i)
        .some(
          (l) =>
            /\bset\s+(?:-\w*o\s+pipefail|-o\s+pipefail)|\bset\s+-\w+\s+-o\s+pipefail/.test(l.text) ||
            (/pipefail/.test(l.text) && /\bset\b/.test(l.text)),
        );
    const errexit = (i: number) => {
      let on = false;
      for (const l of lines.slice(0, i)) {
        if (/\bset\s+-\w*e/.test(l.text)) on = true;
        if (/\bset\s+\+\w*e/.test(l.text)) on = false;
      }
      return on;
    };
    const runnerIdx = lines.map((l, i) => (isRunnerLine(l.text) ? i : -1)).filter((i) => i >= 0);
    for (const i of runnerIdx) {
      const l = lines[i]!;
      const cmds = commands(l.text);
      const r = cmds.findIndex((c) => isRunnerCommand(c.cmd));
      for (const c of cmds.slice(r + 1)) {
        if ((c.sep === "||" || c.sep === ";") && MASK.test(c.cmd))
          out.push(at(l, `runner failure masked by \`${c.sep} ${c.cmd}\``));
        if (c.sep === "|" && !pipefail(i)) {
          out.push(at(l, `runner piped into \`${words(c.cmd)[0]}\` without pipefail`));
          break;
        }
      }
      const next = lines[i + 1];
      if (next && /^(?:true|:)$/.test(next.text) && next.depth === l.depth)
        out.push(at(next, "`true` right after the runner"));
      if (!propagated(lines, i, errexit(i)))
        out.push(at(l, "the runner's exit status never reaches the script's exit code"));
    }
    return out;
  },
};

/** The runner on line i decides the exit status: last command, errexit, or `rc=$?` later used by `exit`. */
function propagated(lines: ShellLine[], i: number, errexit: boolean): boolean {
  const l = lines[i]!;
  const rest = lines.slice(i + 1);
  if (rest.length === 0) return true;
  const onLine = /\|\|\s*(?:exit\s+(?:[1-9]|\$\?|"\$\?")|(\w+)=)/.exec(l.text);
  const capture =
    /(?:^|[;&|]\s*)(?:local\s+)?(\w+)=(?:\$\?|"\$\?"|\$\{PIPESTATUS\[\d\]\}|"\$\{PIPESTATUS\[\d\]\}")/;
  const v = capture.exec(l.text)?.[1] ?? onLine?.[1] ?? capture.exec(rest[0]?.text ?? "")?.[1];
  if (onLine && !onLine[1]) return true;
  if (v)
    return rest.some((x) =>
      new RegExp(`\\bexit\\b.*\\$\\{?${v}\\b|\\breturn\\b.*\\$\\{?${v}\\b`).test(x.text),
    );
  if (errexit) return true;
  // Only output follows (echo of the end marker), so the status of the last command decides: not the runner's.
  if (/^if\b|^while\b/.test(l.text)) return rest.some((x) => /\bexit\s+(?:[1-9]|\$)/.test(x.text));
  return false;
}

const NET = /^(?:curl|wget|aria2c|nc|ncat|ssh|scp|rsync|ftp|telnet)$/;
const INSTALL =
  /^(?:pip[\d.]*\s+install|python[\d.]*\s+-m\s+pip\s+install|npm\s+(?:install|i|ci)|yarn(?:\s+install)?$|yarn\s+add|pnpm\s+(?:install|add|i)|go\s+(?:get|mod\s+download|install)|cargo\s+(?:fetch|install)|apt(?:-get)?\s+install|gem\s+install|bundle\s+install|composer\s+install|uv\s+(?:pip\s+install|sync|add)|poetry\s+install|conda\s+install)\b/;
const network: StaticRule = {
  id: "network",
  description: "fetches from the network at evaluation time (installs are warnings)",
  test: (lines) => {
    const out = eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      if (NET.test(ws[0] ?? "")) return `network fetch with ${ws[0]}`;
      if (ws[0] === "git" && /^(?:clone|fetch|pull|ls-remote|remote|submodule)$/.test(ws[1] ?? ""))
        return `git ${ws[1]} reaches a remote`;
      if (INSTALL.test(cmd))
        return `warning: installs packages at evaluation time (${ws.slice(0, 2).join(" ")})`;
      return undefined;
    });
    for (const l of lines)
      if (/\/dev\/(?:tcp|udp)\//.test(l.text)) out.push(at(l, "opens a network socket via /dev/tcp"));
    return out;
  },
};

/** Distinctive lines the gold patch adds (long enough not to occur by chance, absent from the test patch). */
export function goldLines(ctx: StaticContext): string[] {
  const testAdded = new Set(addedLines(ctx.test_patch ?? ""));
  return addedLines(ctx.gold_patch).filter(
    (s) => s.length >= 24 && /[A-Za-z]{3}/.test(s) && !testAdded.has(s),
  );
}
function addedLines(patch: string): string[] {
  return patch
    .split("\n")
    .filter((s) => s.startsWith("+") && !s.startsWith("+++"))
    .map((s) => s.slice(1).trim());
}
const goldPatch: StaticRule = {
  id: "gold-patch",
  description: "refers to the gold patch or contains its code",
  test: (lines, ctx, script) => {
    const out: string[] = [];
    for (const l of lines) {
      if (
        /\bgold[\w.-]*\.(?:patch|diff)\b|\bgold[_-]?patch\b|\/tmp\/patch\b|\bfix\.(?:patch|diff)\b|\bsolution\.(?:patch|diff)\b/i.test(
          l.text,
        )
      ) {
        out.push(at(l, "refers to the gold patch"));
      } else if (/(?:^|\s)(?:patch\s|git\s+apply\b|git\s+am\b)/.test(l.text)) {
        out.push(at(l, "applies a patch at evaluation time"));
      }
    }
    const gl = goldLines(ctx).find((g) => script.includes(g));
    if (gl) out.push(`contains a line the gold patch adds: ${JSON.stringify(gl.slice(0, 80))}`);
    return out;
  },
};

const FAKE = /\bPASS(?:ED)?\b|\bOK\b|\bpassed\b|^ok\s+\d|✓|✔|test result: ok|---\s+PASS:/;
const fakeMarkers: StaticRule = {
  id: "fake-markers",
  description: "prints pass markers or output-section markers without the run's nonce",
  test: (lines) =>
    eachCommand(lines, (cmd) => {
      const ws = words(cmd);
      if (!/^(?:echo|printf|cat)$/.test(ws[0] ?? "")) return undefined;
      const text = ws
        .slice(1)
        .filter((w) => !/^-[neE]+$/.test(w))
        .join(" ");
      if (/>>>>>|<<<<</.test(text) && !/\$\{?\w*(?:nonce|NONCE)/.test(text))
        return "prints an output marker without the nonce";
      if (/>>>>>/.test(text)) return undefined;
      if (FAKE.test(text.replace(/\$\{?\w+\}?/g, "")))
        return `prints a pass marker: ${JSON.stringify(text.slice(0, 60))}`;
      return undefined;
    }),
};

const noRunner: StaticRule = {
  id: "no-runner",
  description: "runs no known test runner",
  test: (lines) =>
    lines.some((l) => isRunnerLine(l.text)) ? [] : ["no known test runner command in the script"],
};

const SKIP_INSERT =
  /\b(?:it|test|describe)\.skip\b|\bxit\(|@(?:pytest\.mark\.)?skip|\bunittest\.skip|t\.Skip\(|#\[ignore\]|@Disabled|@Ignore|def skip_|GTEST_SKIP|DISABLED_/;
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
        return TEST_PATH.test(n) && !/\.(?:xml|json|log|txt|trx|html|out|tap)$/i.test(n); // reports are not tests
      };
      if (
        /^(?:rm|unlink|mv|truncate|shred)$/.test(tool) &&
        ws.slice(1).some((w) => !w.startsWith("-") && isTest(w))
      ) {
        return `${tool} on test files`;
      }
      if (
        /^(?:sed|perl)$/.test(tool) &&
        ws.some((w) => /^-\w*i/.test(w)) &&
        ws.slice(1).some((w) => isTest(w))
      ) {
        return `${tool} -i edits test files`;
      }
      if (/^(?:sed|perl|echo|printf|cat|tee)$/.test(tool) && SKIP_INSERT.test(cmd))
        return "inserts a skip marker";
      if (/(?:^|\s)--deselect\b/.test(cmd)) return "deselects tests";
      if (/(?:^|\s)-k\s*['"]?\s*not\b|(?:^|\s)-k\s*['"][^'"]*\bnot\b/.test(cmd))
        return "excludes tests with -k not";
      const ignored = /--ignore(?:-glob)?[=\s](\S+)/.exec(cmd)?.[1];
      if (
        ignored &&
        ctx.test_files.some(
          (f) =>
            norm(ignored.replace(/['"]/g, "")).startsWith(f) ||
            f.startsWith(norm(ignored.replace(/['"]/g, ""))),
        )
      ) {
        return `ignores the task's test path ${ignored}`;
      }
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
  network,
  goldPatch,
  fakeMarkers,
  testsTampered,
  modifiesSource,
];

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
