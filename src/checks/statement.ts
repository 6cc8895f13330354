/**
 * Rule-based checks of a problem statement, no model needed (src/statement/ settles statements with them,
 * the PR quality filter in src/mine/quality.ts reads the gate): the leak check (does it hand over the fix: the
 * files it changes, identifiers it introduces, lines of its code, the names of the tests that decide) and
 * the statement gate (does it say anything about the behaviour at all).
 */
import { testLeaf } from "../harness/grade.ts";

/** What a statement must not give away, from the task's fix and tests. */
export interface FixFacts {
  /** Paths of the non-test files the fix changes. */
  files: string[];
  /** Code-shaped identifiers on the fix's added lines, not on its removed or context lines, that the tests do not use. */
  identifiers: string[];
  /** Lines the fix adds (trimmed, long enough to be its own). */
  addedLines: string[];
  /** Identifier-shaped names of the tests that decide (FAIL_TO_PASS, else those the test patch defines). */
  tests: string[];
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;
/** snake_case, camelCase, PascalCase with an inner capital: a name, not a word (nor "utf8", "rfc8089"). */
const CODE_SHAPED = /^(?=.{4,})(?:_*[A-Za-z0-9]+_[A-Za-z0-9_]*|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*)$/;
/** A line that is only a comment: its words are prose, not names the fix introduces. */
const COMMENT = /^\s*(?:\/\/|#|\/\*|\*|--|;)/;
const MIN_ADDED_LINE = 20;

/** The sections of a unified diff by file (`b/` path). */
function sections(patch: string): { path: string; lines: string[] }[] {
  return patch
    .split(/^(?=diff --git )/m)
    .map((s) => ({ path: /^diff --git a\/.+? b\/(.+)$/m.exec(s)?.[1] ?? "", lines: s.split("\n") }))
    .filter((s) => s.path);
}

const changed = (lines: string[], sign: "+" | "-") =>
  lines.filter((l) => l.startsWith(sign) && !l.startsWith(`${sign}${sign}${sign} `)).map((l) => l.slice(1));

/** Test functions the test patch defines (Python, Go, Rust, JS/TS, Java, C/C++ GoogleTest). */
export function testNamesFromPatch(testPatch: string): string[] {
  const names = new Set<string>();
  const text = changed(testPatch.split("\n"), "+").join("\n");
  const patterns = [
    /\bdef (test\w+)/g,
    /\bfunc (Test\w+|Example\w+|Fuzz\w+)\(/g,
    /#\[test\][\s\S]{0,80}?\bfn (\w+)/g,
    /@Test[\s\S]{0,120}?\bvoid (\w+)\(/g,
    /\bTEST(?:_F|_P)?\(\s*\w+\s*,\s*(\w+)\s*\)/g,
  ];
  for (const p of patterns) for (const m of text.matchAll(p)) names.add(m[1]!);
  return [...names];
}

/** The facts of a task's fix that its statement must not contain. */
export function fixFacts(
  task: { patch: string; test_patch: string; code_files?: string[] },
  failToPass: readonly string[] = [],
): FixFacts {
  const code = new Set(task.code_files ?? sections(task.patch).map((s) => s.path));
  const fix = sections(task.patch).filter((s) => code.has(s.path));
  const added = fix.flatMap((s) => changed(s.lines, "+"));
  const before = new Set(
    fix
      .flatMap((s) => [...changed(s.lines, "-"), ...s.lines.filter((l) => l.startsWith(" "))])
      .flatMap((l) => l.match(IDENT) ?? []),
  );
  const inTests = new Set(task.test_patch.match(IDENT) ?? []);
  const identifiers = new Set<string>();
  for (const l of added.filter((x) => !COMMENT.test(x)))
    for (const id of l.match(IDENT) ?? [])
      if (CODE_SHAPED.test(id) && !before.has(id) && !inTests.has(id) && !/^_+\w*_+$/.test(id))
        identifiers.add(id);
  const addedLines = [...new Set(added.map((l) => l.trim()).filter((l) => l.length >= MIN_ADDED_LINE))];
  const tests = new Set<string>();
  // A deciding test's leaf that the tests call and that is not named as a test is the API, not a test's
  // name: a doctest (`more_itertools.more.running_max`) is named after the function it documents.
  const api = (t: string) => inTests.has(t) && !/test/i.test(t);
  const leaves = failToPass.map(testLeaf).filter((t) => !api(t));
  for (const t of [...leaves, ...testNamesFromPatch(task.test_patch)])
    if (/^[A-Za-z_]\w{4,}$/.test(t) && /[_A-Z0-9]/.test(t.slice(1))) tests.add(t);
  return { files: [...code], identifiers: [...identifiers], addedLines, tests: [...tests] };
}

const squash = (s: string) => s.replace(/\s+/g, " ").trim();
const word = (w: string) => new RegExp(`(?<![\\w.])${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?![\\w])`);

/** Why a statement gives the fix away, one finding per line; empty when it does not (rule-based). */
export function leakFindings(statement: string, f: FixFacts): string[] {
  const out: string[] = [];
  const text = statement;
  const flat = squash(statement);
  for (const path of f.files) {
    const base = path.split("/").pop()!;
    if (text.includes(path)) out.push(`names the file ${path}, which the fix changes`);
    else if (/\.\w+$/.test(base) && base.length >= 5 && word(base).test(text))
      out.push(`names the file ${base}, which the fix changes`);
  }
  for (const id of f.identifiers)
    if (word(id).test(text))
      out.push(`names \`${id}\`, an identifier of the fix's added code (not of the tests)`);
  for (const line of f.addedLines)
    if (flat.includes(squash(line)))
      out.push(`quotes a line the fix adds: ${JSON.stringify(line.slice(0, 80))}`);
  for (const t of f.tests) if (word(t).test(text)) out.push(`names the test ${t}`);
  return out;
}

const STOP = new Set(
  "the a an and or of to in on for with is are was be by as at from it its this that these those when not no into via".split(
    " ",
  ),
);

/** The text of a statement that can say something: without links, issue references, templates, trailers. */
export function contentOf(statement: string): string {
  return statement
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/```[\s\S]*?```/g, (block) => block.replace(/```\w*/g, " "))
    .replace(/^\s*(?:[-*] \[[ xX]\].*|(?:Signed-off-by|Co-authored-by|Reviewed-by):.*)$/gm, " ")
    .replace(/\bhttps?:\/\/\S+/g, " ")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(
      /\b(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?|see|refs?|issue|pr)\b\s*:?\s*(?:[\w.-]+\/[\w.-]+)?#\d+/gi,
      " ",
    )
    .replace(/(?:[\w.-]+\/[\w.-]+)?#\d+|\bGH-\d+\b/g, " ");
}

/** Words of content: letters (names with digits or underscores count), not stop words or version numbers. */
export function contentWords(statement: string): string[] {
  return (contentOf(statement).match(/[A-Za-z][\w'-]*/g) ?? []).filter(
    (w) => w.length >= 2 && !STOP.has(w.toLowerCase()) && !/^v\d/.test(w),
  );
}

/** Titles of PRs that bundle a release or merge branches, not one change. */
export const RELEASE_TITLE = new RegExp(
  "^\\s*(?:" +
    [
      "(?:\\[release\\]\\s*)?(?:release|releasing|version|bump(?:ed)? (?:the )?version to|bump to)\\s+v?\\d+(?:\\.\\d+)+",
      "\\[release\\]",
      "v?\\d+\\.\\d+(?:\\.\\d+)?(?:\\s|$|:)",
      "bump(?:ed|s)? (?:the )?version\\b",
      "(?:changes|updates?) for (?:version|release|v?\\d)",
      "prepar(?:e|ing) (?:for )?(?:the )?(?:release|v?\\d)",
      "update (?:the )?changelog",
      "merge (?:branch|remote-tracking branch|(?:the )?\\S+ (?:branch )?(?:into|to) \\S+)",
      "sync(?:ing)? (?:\\S+ )?(?:with|from|to) \\S+",
    ].join("|") +
    ")",
  "i",
);

/** The statement gate: "ok", or why the statement says nothing about the behaviour. */
export function gateVerdict(statement: string, o: { minWords?: number } = {}): string {
  const min = o.minWords ?? 3;
  const text = statement.trim();
  if (!text) return "empty";
  const words = contentWords(text);
  const first = text.split("\n")[0]!.replace(/^#+\s*/, "");
  const rest = contentWords(text.split("\n").slice(1).join("\n"));
  if (RELEASE_TITLE.test(first) && rest.length < min)
    return `a release or version title: ${JSON.stringify(first.slice(0, 80))}`;
  if (!words.length && /#\d+/.test(text))
    return `only an issue reference: ${JSON.stringify(text.slice(0, 80))}`;
  if (words.length < min)
    return `${words.length} word${words.length === 1 ? "" : "s"} of content, fewer than ${min}: ${JSON.stringify(text.slice(0, 80))}`;
  return "ok";
}
