/**
 * Whether the test runner's status reaches the script's exit code: the swallowed-failure rule. A runner
 * whose result is read back from what it wrote (a JUnit or TAP report, a log grepped for failures, output
 * piped into grep) decides the exit through that report, as honest verifiers of other datasets do.
 */
import { SWEBENCH_MARK } from "./outcome.ts";
import { commands, isRunnerCommand, isRunnerLine, type ShellLine, words } from "./shell.ts";
import { at, type StaticRule } from "./static-rule.ts";

const MASK = /^(?:true|:|exit\s+0|echo\b.*|printf\b.*)$/;

/** Files a runner line writes its output or report to. */
export function writtenFiles(text: string): string[] {
  const out: string[] = [];
  const add = (f: string | undefined) => f && !/^\/dev\//.test(f) && out.push(f.replace(/^['"]|['"]$/g, ""));
  for (const m of text.matchAll(/(?:^|[^<>&\d])(?:&>|\d?>>?)\s*([^\s;|&]+)/g)) add(m[1]);
  for (const m of text.matchAll(/\|\s*tee\s+(?:-a\s+)?([^\s;|&]+)/g)) add(m[1]);
  const opts =
    /--(?:junit-?xml|junitxml|test-reporter-destination|outputFile|output-file|json-report-file|report-file|xunit-file|reporter-options\s+output|junit-report|results-file)[=\s]+(?:[\w:]+=)?([^\s;|&]+)/gi;
  for (const m of text.matchAll(opts)) add(m[1]);
  return out;
}

const DECIDERS =
  /^(?:grep|egrep|fgrep|rg|awk|gawk|jq|xmllint|xmlstarlet|python[\d.]*|node|ruby|perl|test|\[\[?|!|tail|wc|cat)$/;

/** A later line reads back what the runner wrote (report or log) with a tool that can decide from it. */
function readsBack(lines: ShellLine[], i: number): boolean {
  const files = writtenFiles(lines[i]!.text).map((f) => f.split("/").pop()!);
  if (!files.length) return false;
  return lines.slice(i + 1).some((l) => {
    if (!files.some((f) => l.text.includes(f))) return false;
    if (l.heredoc) return true; // a program (python - <<EOF) that opens the report
    return commands(l.text).some((c) => {
      const tool = words(c.cmd.replace(/^\s*(?:if|elif|while|until|then|!)\s+/, ""))[0] ?? "";
      return DECIDERS.test(tool.split("/").pop() ?? "") && files.some((f) => c.cmd.includes(f));
    });
  });
}

/**
 * The runner sits between SWE-bench's output markers: its log is the result (SWE-bench's harness parses the
 * section, and its scripts exit with the status of the `git checkout` that follows).
 */
function betweenLogMarkers(lines: ShellLine[], i: number): boolean {
  const start = lines.slice(0, i).some((l) => l.text.includes(SWEBENCH_MARK.start));
  return start && lines.slice(i + 1).some((l) => l.text.includes(SWEBENCH_MARK.end));
}

/** The runner's output is piped into a grep that decides (not `grep -v`, which only filters). */
const pipedIntoGrep = (c: { cmd: string; sep: string }) =>
  c.sep === "|" && /^(?:grep|egrep|fgrep|rg)\b/.test(c.cmd) && !/\s-\w*v/.test(c.cmd);

export const swallowedFailure: StaticRule = {
  id: "swallowed-failure",
  description:
    "the test runner's failure is swallowed (|| true, ; true, set +e without propagating, unguarded pipes) and nothing it wrote is read back",
  test: (all) => {
    const lines = all.filter((l) => !l.heredoc || /python|node|ruby|perl/.test(l.opener ?? ""));
    const out: string[] = [];
    const pipefail = (i: number) =>
      lines.slice(0, i).some((l) => /pipefail/.test(l.text) && /\bset\b/.test(l.text));
    const errexit = (i: number) => {
      let on = false;
      for (const l of lines.slice(0, i)) {
        if (/\bset\s+-\w*e/.test(l.text)) on = true;
        if (/\bset\s+\+\w*e/.test(l.text)) on = false;
      }
      return on;
    };
    const runnerIdx = lines
      .map((l, i) => (!l.heredoc && isRunnerLine(l.text) ? i : -1))
      .filter((i) => i >= 0);
    for (const i of runnerIdx) {
      const l = lines[i]!;
      if (readsBack(lines, i) || betweenLogMarkers(lines, i)) continue;
      const cmds = commands(l.text);
      const r = cmds.findIndex((c) => isRunnerCommand(c.cmd));
      for (const c of cmds.slice(r + 1)) {
        if ((c.sep === "||" || c.sep === ";") && MASK.test(c.cmd))
          out.push(at(l, `the runner's failure is masked by \`${c.sep} ${c.cmd}\``));
        if (pipedIntoGrep(c)) break;
        if (c.sep === "|" && !pipefail(i)) {
          out.push(at(l, `the runner is piped into \`${words(c.cmd)[0]}\` without pipefail`));
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
  const rest = lines.slice(i + 1).filter((x) => !x.heredoc);
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
  if (/^if\b|^while\b|^until\b|^!/.test(l.text))
    return rest.some((x) => /\bexit\s+(?:[1-9]|\$)/.test(x.text));
  // Only output or clean-up follows (echo of the end marker, `git checkout` of the tests): the last
  // command's status decides, not the runner's.
  return false;
}
