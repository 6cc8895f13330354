/** Just enough shell reading for the static rules: logical lines, nesting depth, words, runner table. */

export interface ShellLine {
  /** 1-based line number where the logical line starts. */
  n: number;
  text: string;
  /** if/case/loop/function nesting depth at which the line starts. */
  depth: number;
  /** A line of a here-document body (data, not a command). */
  heredoc?: boolean;
  /** For a here-document line: the command line that opened it (`python - <<'EOF'`, `git apply - <<EOF`). */
  opener?: string;
}

/** Test runner invocations; a script that runs none of these is not a verifier. */
export const RUNNERS: readonly RegExp[] = [
  /\bpy\.?test\b/,
  /\bpython[\d.]*\s+(?:-[A-Za-z]+\s+)*-m\s+(?:pytest|unittest|nose2?|twisted\.trial|xmlrunner)\b/,
  /\b(?:manage\.py|django-admin)\s+test\b/,
  /\bpython[\d.]*\s+\S*(?:runtests|run_tests|test)\S*\.py\b/,
  /\b(?:tox|nox)\b/,
  /\b(?:npm|pnpm|yarn|bun)\s+(?:run\s+)?test\b/,
  /\b(?:npx|pnpm\s+exec|yarn)\s+(?:jest|vitest|mocha|ava|tap|playwright)\b/,
  /(?:^|[\s/])(?:jest|vitest|mocha|ava)(?:\s|$)/,
  /\bnode\s+(?:[^|;&]*\s)?--test\b/,
  /\bgo\s+test\b/,
  /\bgotestsum\b/,
  /\bcargo\s+(?:test|nextest)\b/,
  /\b(?:mvn|mvnw|\.\/mvnw)\b.*\b(?:test|verify|surefire:test)\b/,
  /\bgradlew?\b.*\btest\b/,
  /\bctest\b/,
  /\bmake\s+(?:[^|;&]*\s)?(?:test|check|tests)\b/,
  /\bninja\s+(?:[^|;&]*\s)?test\b/,
  /\bmeson\s+test\b/,
  /\bdotnet\s+test\b/,
  /\b(?:bundle\s+exec\s+)?(?:rspec|rake\s+test)\b/,
  /\bphpunit\b|\bpest\b/,
  /\bsbt\b.*\btest\b/,
  /\bswift\s+test\b/,
  /\bbazel\s+test\b/,
  /\bmix\s+test\b/,
];

/** A test program run directly: "./build/calc_test", "build/tests/unit_tests --gtest_brief". */
const TEST_BINARY = /^(?:\.{1,2}\/|\/|[\w.-]+\/)[\w./-]*(?:test|tests|spec)[\w.-]*$/i;

/** The command with leading `timeout N`, `env A=b`, `A=b`, `time`, `xvfb-run` wrappers removed. */
export function unwrap(cmd: string): string {
  return cmd.replace(
    // Keywords that put a command in a condition or a loop (`if grep -q … src/x.py; then`) come off too.
    /^\s*(?:(?:if|elif|while|until|then|else|do|!)\s+|(?:timeout|stdbuf)\s+(?:-\S+\s+)*\S+\s+|env\s+|xvfb-run\s+(?:-\S+\s+)*|time\s+|\w+=\S*\s+)*/,
    "",
  );
}

export function isRunnerCommand(command: string): boolean {
  const cmd = unwrap(command);
  const first = words(cmd)[0] ?? "";
  if (/^(?:echo|printf|cd|export|local|declare|cat|grep|rm|ls|mkdir|cp|mv|sed|test|\[)$/.test(first))
    return false;
  return RUNNERS.some((r) => r.test(cmd)) || TEST_BINARY.test(first);
}

export function isRunnerLine(text: string): boolean {
  return commands(text).some((c) => isRunnerCommand(c.cmd));
}

/** Removes comments (full-line and ` # …` outside quotes), joins `\` continuations, drops blank lines. */
export function logicalLines(script: string): ShellLine[] {
  const raw = script.replace(/\r\n?/g, "\n").split("\n");
  const out: ShellLine[] = [];
  let depth = 0;
  let heredoc: string | undefined;
  let opener = "";
  for (let i = 0; i < raw.length; i++) {
    const start = i;
    let text = raw[i]!;
    if (heredoc !== undefined) {
      if (text.trim() === heredoc) heredoc = undefined;
      else if (text.trim()) out.push({ n: i + 1, text: text.trim(), depth, heredoc: true, opener });
      continue;
    }
    while (text.endsWith("\\") && i + 1 < raw.length) text = text.slice(0, -1) + " " + raw[++i]!;
    text = stripComment(text).trim();
    if (!text) continue;
    // `<<EOF` and `<<-EOF` open a here-document; a here-string (`<<< word`) does not.
    const hd = /(?<!<)<<(?!<)-?\s*['"]?(\w+)['"]?/.exec(text);
    if (hd) {
      heredoc = hd[1]!;
      opener = text;
    }
    const opens = (text.match(/(?:^|[\s;])(?:if|case|for|while|until)\b|\{\s*$|\(\)\s*\{/g) ?? []).length;
    const closes = (text.match(/(?:^|[\s;])(?:fi|esac|done)\b|^\}/g) ?? []).length;
    const lineDepth = /^(?:fi|esac|done|\}|else|elif)\b/.test(text) ? Math.max(0, depth - 1) : depth;
    out.push({ n: start + 1, text, depth: lineDepth });
    depth = Math.max(0, depth + opens - closes);
  }
  return out;
}

function stripComment(line: string): string {
  if (/^\s*#/.test(line)) return "";
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"') i++;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Simple commands of a line: split at ; && || | (outside quotes), each with its separator before it. */
export function commands(text: string): { cmd: string; sep: string }[] {
  const out: { cmd: string; sep: string }[] = [];
  let quote: string | undefined;
  let cur = "";
  let sep = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      cur += ch;
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      cur += ch;
      continue;
    }
    const two = text.slice(i, i + 2);
    const s = two === "&&" || two === "||" ? two : ch === ";" || ch === "|" ? ch : undefined;
    if (s) {
      out.push({ cmd: cur.trim(), sep });
      sep = s;
      cur = "";
      i += s.length - 1;
      continue;
    }
    cur += ch;
  }
  out.push({ cmd: cur.trim(), sep });
  return out.filter((c) => c.cmd !== "");
}

/** Words of a simple command with quotes removed (no expansion). */
export function words(cmd: string): string[] {
  return (cmd.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^["']|["']$/g, ""));
}

/** One simple command of a script, with what surrounds it: how its status and output are used. */
export interface CommandSite {
  /** The simple command with its wrappers (timeout, env, if/while/!) removed. */
  cmd: string;
  line: ShellLine;
  /** Separators before and after it on its line ("", ";", "&&", "||", "|"). */
  before: string;
  after: string;
  /** The command after it on the line (unwrapped), when there is one. */
  next?: string;
  /** Inside $( … ) or backticks: its output is used by the command around it. */
  substituted: boolean;
  /** Its status is a condition: if/elif/while/until, or negated with `!`. */
  condition: boolean;
}

const SUBSTITUTION = /\$\(([^()]*(?:\([^()]*\)[^()]*)*)\)|`([^`]*)`/g;
const CONDITION = /^\s*(?:(?:then|else|do)\s+)?(?:if|elif|while|until|!)\s/;

/** Every simple command of the script's command lines (here-document bodies are data), substitutions too. */
export function commandSites(lines: ShellLine[]): CommandSite[] {
  const out: CommandSite[] = [];
  const add = (text: string, line: ShellLine, substituted: boolean) => {
    const cs = commands(text);
    cs.forEach((c, i) => {
      const after = cs[i + 1]?.sep ?? "";
      out.push({
        cmd: unwrap(c.cmd),
        line,
        before: c.sep,
        after,
        ...(cs[i + 1] ? { next: unwrap(cs[i + 1]!.cmd) } : {}),
        substituted,
        condition: CONDITION.test(c.cmd),
      });
    });
  };
  for (const l of lines) {
    if (l.heredoc) continue;
    add(l.text, l, false);
    for (const m of l.text.matchAll(SUBSTITUTION)) add(m[1] ?? m[2] ?? "", l, true);
  }
  return out;
}
