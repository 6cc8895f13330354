/**
 * Git in a verifier: logging it (`git status`, `git show`, `git diff <base>`, `|| true`), restoring the test
 * files (`git checkout <base> -- <tests>`) and configuring it are what SWE-bench's scripts do; deciding
 * from what git says (a condition, a substitution, a pipe into grep, `--quiet`), rewriting the candidate's
 * code through git, or reading `.git/` is what the rule reports, as evidence.
 */
import { type CommandSite, commandSites, type ShellLine, words } from "./shell.ts";
import { at, norm, type StaticRule, TEST_PATH } from "./static-rule.ts";

const READ =
  /^(?:log|diff|show|status|blame|rev-parse|reflog|rev-list|cat-file|ls-files|ls-tree|describe|shortlog|whatchanged|name-rev|for-each-ref|show-ref|branch|tag|fsck|grep)$/;
const WRITE =
  /^(?:checkout|switch|restore|reset|stash|clean|revert|cherry-pick|merge|rebase|am|commit|add|rm|mv)$/;
const HARMLESS_NEXT = /^(?:true|:|echo\b.*|printf\b.*|tee\b.*|cat|head\b.*|less)$/;

/** The git sub-command of a simple command (`git -C dir -c k=v diff …` → diff) and its arguments. */
export function gitCommand(cmd: string): { sub: string; args: string[] } | undefined {
  const ws = words(cmd);
  if (ws[0] !== "git" && !/\/git$/.test(ws[0] ?? "")) return undefined;
  let i = 1;
  while (i < ws.length && ws[i]!.startsWith("-"))
    i += /^-[Cc]$|^--git-dir$|^--work-tree$/.test(ws[i]!) ? 2 : 1;
  return ws[i] ? { sub: ws[i]!, args: ws.slice(i + 1) } : undefined;
}

/** How the script uses what a read-only git command says, when it decides anything from it. */
function decidesFrom(s: CommandSite, sub: string, args: string[]): string | undefined {
  const quiet = args.some((a) => /^(?:--quiet|--exit-code|-q|--porcelain|--short|-s)$/.test(a));
  if (s.substituted && !/^rev-parse$/.test(sub)) return `uses the output of git ${sub} as a value`;
  if (s.substituted && args.some((a) => /^(?:HEAD|--verify)$/.test(a)) && !args.includes("--show-toplevel"))
    return `uses the output of git ${sub} as a value`;
  if (s.condition) return `decides from git ${sub} (a condition)`;
  if (s.after === "|" && s.next && !HARMLESS_NEXT.test(s.next))
    return `pipes git ${sub} into ${words(s.next)[0]}`;
  if ((s.after === "&&" || s.after === "||") && s.next && !HARMLESS_NEXT.test(s.next))
    return `decides from git ${sub}'s status (\`${s.after} ${s.next.slice(0, 40)}\`)`;
  if (quiet && sub === "diff") return "reads git diff's status (--quiet/--exit-code)";
  return undefined;
}

/** Paths given to a command after its options (and after `--`). */
const paths = (args: string[]) => {
  const dd = args.indexOf("--");
  return (dd >= 0 ? args.slice(dd + 1) : args).filter((a) => !a.startsWith("-") && !/^\d*[<>&]/.test(a));
};

/** `git checkout <rev> [--] <tests…>`, `git restore --source <rev> <tests…>`: the test files put back. */
function restoresTests(sub: string, args: string[], testFiles: string[]): boolean {
  if (!/^(?:checkout|restore)$/.test(sub)) return false;
  const ps = paths(args).map(norm);
  const files = sub === "checkout" && args.indexOf("--") < 0 ? ps.slice(1) : ps;
  return files.length > 0 && files.every((p) => testFiles.includes(p) || TEST_PATH.test(p) || p === ".");
}

/** `git cat-file -e <rev>:<test>`, `git ls-files --error-unmatch <test>`: whether a test file exists at the base. */
function asksOfTests(args: string[], testFiles: string[]): boolean {
  const objs = paths(args).map((p) => norm(p.replace(/^[^:]*:/, "")));
  return objs.length > 0 && objs.every((p) => testFiles.includes(p) || TEST_PATH.test(p));
}

function gitSite(s: CommandSite, testFiles: string[]): string | undefined {
  const g = gitCommand(s.cmd);
  if (!g) return undefined;
  if (READ.test(g.sub)) return asksOfTests(g.args, testFiles) ? undefined : decidesFrom(s, g.sub, g.args);
  if (!WRITE.test(g.sub) || restoresTests(g.sub, g.args, testFiles)) return undefined;
  if (g.sub === "add" || g.sub === "commit") return undefined;
  return `changes the working tree through git ${g.sub} ${g.args.join(" ").slice(0, 60)}`.trimEnd();
}

export const gitState: StaticRule = {
  id: "git-state",
  description:
    "decides from git (a condition, a value, a pipe or a status), changes the candidate's code through git, or reads .git/",
  test: (lines: ShellLine[], ctx) => {
    const out: string[] = [];
    for (const s of commandSites(lines)) {
      const r = gitSite(s, ctx.test_files);
      if (r) out.push(at(s.line, r));
    }
    for (const l of lines)
      if (!l.heredoc && /(?:^|[\s'"=/])\.git\/(?!hub)/.test(l.text))
        out.push(at(l, "reads the .git directory"));
    return out;
  },
};
