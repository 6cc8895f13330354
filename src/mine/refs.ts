/**
 * Reading PR numbers and issue references out of commit messages and PR bodies.
 */

/** GitHub's closing keywords (docs: "Linking a pull request to an issue"). */
export const CLOSING_KEYWORDS = [
  "close",
  "closes",
  "closed",
  "fix",
  "fixes",
  "fixed",
  "resolve",
  "resolves",
  "resolved",
];

export interface IssueRef {
  number: number;
  closing: boolean;
}

const KW = CLOSING_KEYWORDS.join("|");
/** keyword [:] then owner/repo#N, #N, GH-N or an issues URL. */
const CLOSING_RE = new RegExp(
  `\\b(?:${KW})\\b:?\\s+(?:([\\w.-]+\\/[\\w.-]+)#(\\d+)|#(\\d+)|GH-(\\d+)|https?:\\/\\/[^\\s/]+\\/([\\w.-]+\\/[\\w.-]+)\\/issues\\/(\\d+))`,
  "gi",
);
const MENTION_RE =
  /(?:^|[^\w/#&])(?:([\w.-]+\/[\w.-]+)#(\d+)|#(\d+)|GH-(\d+)|https?:\/\/[^\s/]+\/([\w.-]+\/[\w.-]+)\/issues\/(\d+))\b/gi;

function refOf(m: RegExpExecArray, repo: string | undefined): number | undefined {
  const other = m[1] ?? m[5];
  if (other && repo && other.toLowerCase() !== repo.toLowerCase()) return undefined;
  if (other && !repo) return undefined;
  const n = Number(m[2] ?? m[3] ?? m[4] ?? m[6]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * Issue references in a text. Closing references ("Fixes #12", "closes owner/repo#3") are closing; any
 * other "#N" is a plain mention. References to another repository are dropped (a LinkedIssue has no repo).
 * `exclude` removes numbers that are not issues here (the PR's own number).
 */
export function parseIssueRefs(text: string, repo?: string, exclude: number[] = []): IssueRef[] {
  const found = new Map<number, boolean>();
  const cleaned = text.replace(/```[\s\S]*?```/g, " ");
  for (const m of cleaned.matchAll(CLOSING_RE)) {
    const n = refOf(m, repo);
    if (n !== undefined) found.set(n, true);
  }
  for (const m of cleaned.matchAll(MENTION_RE)) {
    const n = refOf(m, repo);
    if (n !== undefined && !found.has(n)) found.set(n, false);
  }
  for (const n of exclude) found.delete(n);
  return [...found].map(([number, closing]) => ({ number, closing }));
}

export interface PrTitle {
  number: number;
  style: "merge" | "squash";
  /** The PR title and body recovered from the commit message. */
  title: string;
  body: string;
}

const MERGE_RE = /^Merge pull request #(\d+) from (\S+)/;
const SQUASH_RE = /^(.*\S)\s+\(#(\d+)\)\s*$/;

/**
 * Recognise a PR in a commit message. GitHub's merge commits read "Merge pull request #N from owner/branch",
 * a blank line, then the PR title (and since 2022 optionally the body); squash merges title the commit
 * "PR title (#N)" and put the PR's commit list or description in the body.
 */
export function parsePrCommit(message: string, parents: number): PrTitle | undefined {
  const lines = message.replace(/\r\n/g, "\n").split("\n");
  const subject = lines[0] ?? "";
  const rest = lines.slice(1).join("\n").replace(/^\n+/, "");
  const merge = MERGE_RE.exec(subject);
  if (merge && parents >= 2) {
    const [title = "", ...body] = rest.split("\n");
    return {
      number: Number(merge[1]),
      style: "merge",
      title: title.trim() || subject,
      body: body.join("\n").trim(),
    };
  }
  const squash = SQUASH_RE.exec(subject);
  if (squash && parents === 1) {
    return { number: Number(squash[2]), style: "squash", title: squash[1]!, body: rest.trim() };
  }
  return undefined;
}
