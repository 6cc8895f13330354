/**
 * A parser for git's unified diff (`git diff --binary -M -C` / `git diff-tree -p --binary`), working on bytes.
 *
 * Each file section keeps its exact bytes (`raw`), so a patch rebuilt from a subset of sections applies
 * with `git apply` byte for byte: CRLF line ends, "\ No newline at end of file" and binary patches included.
 * Text is decoded as UTF-8; a section that is not valid UTF-8 is flagged `undecodable` (the splitter rejects
 * the candidate as `undecodable_diff`: a latin1 round trip through JSON would change the bytes and the
 * patch would no longer apply).
 *
 * The parser also checks the structure, as `git apply` would (`checkDiff`): every hunk holds exactly the
 * old and new line counts its `@@ -a,b +c,d @@` header promises (context lines count on both sides, an
 * empty line counts as an empty context line, "\ No newline at end of file" on none), nothing but blank
 * lines follows the last hunk, the extended header holds only git's header lines, the `diff --git` line's
 * paths parse (or rename/copy/---/+++ lines name the file), and non-blank input has at least one section
 * and no text before the first one. A section's first problem is kept in `problem`; the splitter rejects
 * such a candidate as `malformed_diff` instead of writing a Task whose patch would not apply.
 */
import { decodeLossless } from "../util/lossless.ts";

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
  /** Why the section is not a well-formed git diff section (first problem found), if it is not. */
  problem?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

const MARKER = Buffer.from("diff --git ");

/** Offsets of the lines starting with "diff --git ". */
function sectionStarts(buf: Buffer): number[] {
  const starts: number[] = [];
  let i = buf.indexOf(MARKER);
  while (i !== -1) {
    if (i === 0 || buf[i - 1] === 0x0a) starts.push(i);
    i = buf.indexOf(MARKER, i + 1);
  }
  return starts;
}

/** Split a diff into its per-file byte sections at lines starting with "diff --git ". */
export function splitSections(buf: Buffer): Buffer[] {
  const starts = sectionStarts(buf);
  return starts.map((s, k) => buf.subarray(s, starts[k + 1] ?? buf.length));
}

export function parseDiff(input: Buffer | string): FileDiff[] {
  const buf = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  return splitSections(buf).map(parseSection);
}

/** A short, printable excerpt of a line for rejection details. */
const excerpt = (s: string) => JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);

/**
 * Parse and check a diff: its files, and the first reason it is malformed (undefined when well formed).
 * Blank input is well formed (no files: an empty diff).
 */
export function checkDiff(input: Buffer | string): { files: FileDiff[]; problem?: string } {
  const buf = typeof input === "string" ? Buffer.from(input, "utf8") : input;
  const starts = sectionStarts(buf);
  const files = starts.map((s, k) => parseSection(buf.subarray(s, starts[k + 1] ?? buf.length)));
  const preamble = buf.subarray(0, starts[0] ?? buf.length).toString("latin1");
  const junk = /\S.*/.exec(preamble)?.[0];
  if (junk !== undefined) {
    const where =
      files.length === 0 ? `no "diff --git" section in ${buf.length} bytes` : "text before the first section";
    return { files, problem: `${where}: ${excerpt(junk)}` };
  }
  const bad = files.find((f) => f.problem);
  return bad ? { files, problem: `${bad.path}: ${bad.problem}` } : { files };
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
  return decodeLossless(Buffer.from(bytes)); // a name that is not UTF-8 keeps its bytes as \x{NN}
}

/** A line holding a C-quoted path (`"a/t\351st"`) whose bytes are not UTF-8. */
function undecodableName(line: string): boolean {
  for (const m of line.matchAll(/"(?:[^"\\]|\\.)*"/g)) if (unquotePath(m[0]).includes("\\x{")) return true;
  return false;
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
  if (
    Number.isInteger(half) &&
    rest.startsWith("a/") &&
    rest.startsWith(" b/", half) &&
    rest.slice(2, half) === rest.slice(half + 3)
  ) {
    return { a: rest.slice(2, half), b: rest.slice(half + 3) };
  }
  const split = rest.indexOf(" b/");
  if (split > 0 && (rest.startsWith("a/") || rest.startsWith('"a/'))) {
    return { a: stripPrefix(rest.slice(0, split)), b: stripPrefix(rest.slice(split + 1)) };
  }
  return undefined;
}

/**
 * Extended header lines of a file section and what each one sets (git's full set: a line matching none is
 * a problem). `names` marks the lines that name the file, so an unparsable `diff --git` line can be forgiven.
 */
const HEADER_RULES: { re: RegExp; set?: (f: FileDiff, m: RegExpExecArray) => void; names?: true }[] = [
  { re: /^old mode (\d+)$/, set: (f, m) => (f.oldMode = m[1]) },
  { re: /^new mode (\d+)$/, set: (f, m) => (f.newMode = m[1]) },
  {
    re: /^deleted file mode (\d+)$/,
    set: (f, m) => {
      f.oldMode = m[1];
      f.status = "deleted";
    },
  },
  {
    re: /^new file mode (\d+)$/,
    set: (f, m) => {
      f.newMode = m[1];
      f.status = "added";
    },
  },
  {
    re: /^index [0-9a-f]+\.\.[0-9a-f]+(?: (\d+))?$/,
    set: (f, m) => {
      if (m[1] === undefined) return;
      f.oldMode ??= m[1];
      f.newMode ??= m[1];
    },
  },
  { re: /^(?:dis)?similarity index \d+%$/ },
  {
    re: /^rename (?:from|old) (.*)/,
    set: (f, m) => {
      f.oldPath = unquotePath(m[1]!);
      f.status = "renamed";
    },
  },
  { re: /^rename (?:to|new) (.*)/, set: (f, m) => (f.path = unquotePath(m[1]!)), names: true },
  {
    re: /^copy from (.*)/,
    set: (f, m) => {
      f.oldPath = unquotePath(m[1]!);
      f.status = "copied";
    },
  },
  { re: /^copy to (.*)/, set: (f, m) => (f.path = unquotePath(m[1]!)), names: true },
  { re: /^Binary files .* differ$/, set: (f) => (f.binary = true) },
  { re: /^--- \/dev\/null$/ },
  { re: /^\+\+\+ \/dev\/null$/ },
  { re: /^--- (.+)/, set: (f, m) => (f.oldPath = stripPrefix(m[1]!)), names: true },
  { re: /^\+\+\+ (.+)/, set: (f, m) => (f.path = stripPrefix(m[1]!)), names: true },
];

function parseSection(bytes: Buffer): FileDiff {
  const { text, ok } = decode(bytes);
  const lines = text.split("\n");
  // A final newline ends the last line; it does not start another one.
  if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
  const head = lines[0]!.replace(/\r$/, "").slice("diff --git ".length);
  const hp = headerPaths(head);
  const f: FileDiff = {
    path: hp?.b ?? head,
    oldPath: hp?.a ?? head,
    status: "modified",
    binary: false,
    submodule: false,
    undecodable: !ok || lines.slice(0, 6).some((l) => !l.startsWith("@@") && undecodableName(l)),
    additions: 0,
    deletions: 0,
    hunks: [],
    text,
  };
  const problems: string[] = [];
  let named = hp !== undefined;
  let fileLines = 0;
  let i = 1;
  // Extended header lines, up to the first hunk or binary marker.
  for (; i < lines.length; i++) {
    const l = lines[i]!.replace(/\r$/, "");
    if (l.startsWith("@@") || l === "GIT binary patch") break;
    const rule = HEADER_RULES.find((r) => r.re.test(l));
    if (!rule) {
      if (l === "" && lines.slice(i).every((x) => x === "")) break;
      problems.push(`unexpected line ${i + 1} before the first hunk: ${excerpt(l)}`);
      break;
    }
    rule.set?.(f, rule.re.exec(l)!);
    if (rule.names) named = true;
    if (l.startsWith("--- ") || l.startsWith("+++ ")) fileLines++;
  }
  if (f.status === "added") f.oldPath = f.path;
  if (f.status === "deleted") f.path = f.oldPath;
  if (!named) problems.unshift(`cannot parse the paths of ${excerpt(lines[0]!)}`);
  else if (f.path === "" || f.oldPath === "") problems.unshift(`empty path in ${excerpt(lines[0]!)}`);
  if (lines[i]?.replace(/\r$/, "") === "GIT binary patch") {
    f.binary = true;
    const next = lines[i + 1]?.replace(/\r$/, "") ?? "";
    if (!/^(literal|delta) \d+$/.test(next)) problems.push(`GIT binary patch without data: ${excerpt(next)}`);
  }
  if (f.oldMode === "160000" || f.newMode === "160000") f.submodule = true;
  if (f.status === "modified" && f.oldMode && f.newMode && f.oldMode.slice(0, 2) !== f.newMode.slice(0, 2)) {
    f.status = "type_changed";
  }
  if (!f.binary) {
    const p = parseHunks(lines, i, f);
    if (p) problems.push(p);
    if (f.hunks.length > 0 && fileLines !== 2) problems.push("hunks without both ---/+++ lines");
    const modeChange = f.oldMode !== undefined && f.newMode !== undefined && f.oldMode !== f.newMode;
    if (f.hunks.length === 0 && f.status === "modified" && !modeChange && problems.length === 0) {
      problems.push("a section that changes nothing (no hunk, mode change, rename or copy)");
    }
  }
  if (problems.length > 0) f.problem = problems[0];
  return f;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Hunks from `from` on, with their changed line numbers. Returns the first structural problem: a hunk whose
 * lines do not add up to its header's counts, a line that is no hunk line, a malformed `@@` header.
 */
function parseHunks(lines: string[], from: number, f: FileDiff): string | undefined {
  let hunk: Hunk | undefined;
  let header = "";
  let oldLine = 0;
  let newLine = 0;
  let oldLeft = 0;
  let newLeft = 0;
  const name = () => `hunk ${f.hunks.length} (${header})`;
  const short = () =>
    `${name()} has ${hunk!.oldLines - oldLeft} old and ${hunk!.newLines - newLeft} new line(s), ` +
    `its header promises ${hunk!.oldLines} and ${hunk!.newLines}`;
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    const c = l[0];
    if (c === "@") {
      if (hunk && (oldLeft > 0 || newLeft > 0)) return short();
      const m = HUNK_HEADER.exec(l);
      if (!m) return `malformed hunk header at line ${i + 1}: ${excerpt(l)}`;
      header = m[0];
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
      oldLeft = hunk.oldLines;
      newLeft = hunk.newLines;
      continue;
    }
    if (!hunk) return `unexpected line ${i + 1} before the first hunk: ${excerpt(l)}`;
    // "\ No newline at end of file" (the text is localised; git only checks the "\ " and a sane length).
    if (c === "\\") {
      const prev = lines[i - 1]![0];
      if (l.startsWith("\\ ") && (prev === "+" || prev === "-" || prev === " " || prev === undefined))
        continue;
      return `${name()}: misplaced ${excerpt(l)} at line ${i + 1}`;
    }
    if (oldLeft === 0 && newLeft === 0) {
      // Complete: only blank lines may follow, and only at the end of the section.
      if (lines.slice(i).every((x) => x === "")) return undefined;
      return `${name()} has more lines than its header promises: ${excerpt(l)} at line ${i + 1}`;
    }
    if (c === "+") {
      if (newLeft-- === 0) return `${name()} has more new lines than its header promises, at line ${i + 1}`;
      hunk.added.push(newLine++);
      f.additions++;
    } else if (c === "-") {
      if (oldLeft-- === 0) return `${name()} has more old lines than its header promises, at line ${i + 1}`;
      hunk.removed.push(oldLine++);
      f.deletions++;
    } else if (c === " " || l === "") {
      // An empty line is an empty context line (some tools strip the trailing space; git apply accepts it).
      if (oldLeft-- === 0 || newLeft-- === 0) {
        return `${name()} has more context lines than its header promises, at line ${i + 1}`;
      }
      oldLine++;
      newLine++;
    } else {
      return `${name()}: ${excerpt(l)} at line ${i + 1} is no hunk line`;
    }
  }
  return hunk && (oldLeft > 0 || newLeft > 0) ? short() : undefined;
}

/** Rebuild a diff from sections (their exact bytes, joined). */
export function joinSections(files: FileDiff[]): string {
  return files.map((f) => (f.text.endsWith("\n") ? f.text : `${f.text}\n`)).join("");
}
