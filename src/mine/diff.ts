/**
 * A parser for git's unified diff (`git diff --binary -M -C` / `git diff-tree -p --binary`), working on bytes.
 *
 * Each file section keeps its exact bytes (`raw`), so a patch rebuilt from a subset of sections applies
 * with `git apply` byte for byte: CRLF line ends, "\ No newline at end of file" and binary patches included.
 * Text is decoded as UTF-8; a section that is not valid UTF-8 is flagged `undecodable` (the splitter rejects
 * the candidate as `undecodable_diff`: a latin1 round trip through JSON would change the bytes and the
 * patch would no longer apply).
 */

export type DiffStatus = "added" | "modified" | "deleted" | "renamed" | "copied" | "type_changed";

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Old-side line numbers of removed lines and new-side line numbers of added lines. */
  removed: number[];
  added: number[];
}

export interface FileDiff {
  path: string;
  oldPath: string;
  status: DiffStatus;
  oldMode?: string;
  newMode?: string;
  binary: boolean;
  submodule: boolean;
  undecodable: boolean;
  additions: number;
  deletions: number;
  hunks: Hunk[];
  /** The section's exact text (decoded; for undecodable sections a latin1 view, never to be applied). */
  text: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Split a diff into its per-file byte sections at lines starting with "diff --git ". */
export function splitSections(buf: Buffer): Buffer[] {
  const marker = Buffer.from("diff --git ");
  const starts: number[] = [];
  let i = buf.indexOf(marker);
  while (i !== -1) {
    if (i === 0 || buf[i - 1] === 0x0a) starts.push(i);
    i = buf.indexOf(marker, i + 1);
  }
  return starts.map((s, k) => buf.subarray(s, starts[k + 1] ?? buf.length));
}

export function parseDiff(input: Buffer | string): FileDiff[] {
  const buf = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  return splitSections(buf).map(parseSection);
}

function decode(bytes: Buffer): { text: string; ok: boolean } {
  try {
    return { text: utf8.decode(bytes), ok: true };
  } catch {
    return { text: bytes.toString("latin1"), ok: false };
  }
}

/** Undo git's C-style quoting of a path ("a/t\303\251st" → a/tést). */
export function unquotePath(s: string): string {
  if (!s.startsWith('"')) return s;
  const bytes: number[] = [];
  const esc: Record<string, number> = { n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, a: 7, '"': 34, "\\": 92 };
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i]!;
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const n = s[i + 1]!;
    if (/[0-7]/.test(n)) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(esc[n] ?? n.charCodeAt(0));
      i += 1;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function stripPrefix(p: string): string {
  const u = unquotePath(p.replace(/\t$/, ""));
  return u.startsWith("a/") || u.startsWith("b/") ? u.slice(2) : u;
}

/** Paths from "diff --git a/X b/Y": quoted forms, the same-path form, or a split at " b/". */
function headerPaths(rest: string): { a: string; b: string } | undefined {
  if (rest.includes('"')) {
    const q = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
    if (q) return { a: stripPrefix(q[1]!), b: stripPrefix(q[2]!) };
  }
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.slice(2, half) === rest.slice(half + 3)) {
    return { a: rest.slice(2, half), b: rest.slice(half + 3) };
  }
  const split = rest.indexOf(" b/");
  if (split > 0) return { a: stripPrefix(rest.slice(0, split)), b: stripPrefix(rest.slice(split + 1)) };
  return undefined;
}

/** Extended header lines of a file section and what each one sets. */
const HEADER_RULES: [RegExp, (f: FileDiff, m: RegExpExecArray) => void][] = [
  [/^old mode (\d+)/, (f, m) => (f.oldMode = m[1])],
  [/^new mode (\d+)/, (f, m) => (f.newMode = m[1])],
  [
    /^deleted file mode (\d+)/,
    (f, m) => {
      f.oldMode = m[1];
      f.status = "deleted";
    },
  ],
  [
    /^new file mode (\d+)/,
    (f, m) => {
      f.newMode = m[1];
      f.status = "added";
    },
  ],
  [
    /^index [0-9a-f]+\.\.[0-9a-f]+ (\d+)/,
    (f, m) => {
      f.oldMode ??= m[1];
      f.newMode ??= m[1];
    },
  ],
  [
    /^rename from (.*)/,
    (f, m) => {
      f.oldPath = unquotePath(m[1]!);
      f.status = "renamed";
    },
  ],
  [/^rename to (.*)/, (f, m) => (f.path = unquotePath(m[1]!))],
  [
    /^copy from (.*)/,
    (f, m) => {
      f.oldPath = unquotePath(m[1]!);
      f.status = "copied";
    },
  ],
  [/^copy to (.*)/, (f, m) => (f.path = unquotePath(m[1]!))],
  [/^Binary files /, (f) => (f.binary = true)],
  [/^--- (?!\/dev\/null$)(.*)/, (f, m) => (f.oldPath = stripPrefix(m[1]!))],
  [/^\+\+\+ (?!\/dev\/null$)(.*)/, (f, m) => (f.path = stripPrefix(m[1]!))],
];

function parseSection(bytes: Buffer): FileDiff {
  const { text, ok } = decode(bytes);
  const lines = text.split("\n");
  const head = lines[0]!.replace(/\r$/, "").slice("diff --git ".length);
  const hp = headerPaths(head);
  const f: FileDiff = {
    path: hp?.b ?? head,
    oldPath: hp?.a ?? head,
    status: "modified",
    binary: false,
    submodule: false,
    undecodable: !ok,
    additions: 0,
    deletions: 0,
    hunks: [],
    text,
  };
  let i = 1;
  // Extended header lines, up to the first hunk or binary marker.
  for (; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, "");
    if (l.startsWith("@@") || l === "GIT binary patch") break;
    const rule = HEADER_RULES.find(([re]) => re.test(l));
    if (rule) rule[1](f, rule[0].exec(l)!);
  }
  if (f.status === "added") f.oldPath = f.path;
  if (f.status === "deleted") f.path = f.oldPath;
  if (lines[i]?.replace(/\r$/, "") === "GIT binary patch") f.binary = true;
  if (f.oldMode === "160000" || f.newMode === "160000") f.submodule = true;
  if (f.status === "modified" && f.oldMode && f.newMode && f.oldMode.slice(0, 2) !== f.newMode.slice(0, 2)) {
    f.status = "type_changed";
  }
  if (!f.binary) parseHunks(lines, i, f);
  return f;
}

function parseHunks(lines: string[], from: number, f: FileDiff): void {
  let hunk: Hunk | undefined;
  let oldLine = 0;
  let newLine = 0;
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(l);
    if (m) {
      hunk = {
        oldStart: Number(m[1]),
        oldLines: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newLines: m[4] === undefined ? 1 : Number(m[4]),
        removed: [],
        added: [],
      };
      f.hunks.push(hunk);
      oldLine = hunk.oldStart;
      newLine = hunk.newStart;
      continue;
    }
    if (!hunk) continue;
    const c = l[0];
    if (c === "+") {
      hunk.added.push(newLine++);
      f.additions++;
    } else if (c === "-") {
      hunk.removed.push(oldLine++);
      f.deletions++;
    } else if (c === " ") {
      oldLine++;
      newLine++;
    }
  }
}

/** Rebuild a diff from sections (their exact bytes, joined). */
export function joinSections(files: FileDiff[]): string {
  return files.map((f) => (f.text.endsWith("\n") ? f.text : `${f.text}\n`)).join("");
}
