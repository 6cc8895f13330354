/**
 * Real parsers for the behaviour probes that rewrite code (src/checks/rewrite.ts): tree-sitter grammars
 * from the npm registry, run as WebAssembly (no native build). One table entry per language says which
 * nodes are functions, where their bodies are, and how a body that only throws reads in that language.
 */
import { createRequire } from "node:module";
import { Language, type Node, Parser, type Tree } from "web-tree-sitter";

export type { Node, Tree } from "web-tree-sitter";

export interface SyntaxLang {
  /** npm package and file of the grammar's WebAssembly build. */
  wasm: string;
  /** Node types that are functions or methods. */
  functions: ReadonlySet<string>;
  /** Node types of the parameter list (their names are not locals). */
  params: ReadonlySet<string>;
  /** A function body that only throws, in place of `body` (the node `childForFieldName("body")`). */
  stub(body: Node): string;
  /** Identifier-like node types that name a variable. */
  identifiers: ReadonlySet<string>;
}

const MSG = "sweu: stubbed by the audit";

const JS: Omit<SyntaxLang, "wasm"> = {
  functions: new Set([
    "function_declaration",
    "function_expression",
    "function",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "generator_function",
  ]),
  params: new Set(["formal_parameters"]),
  stub: () => `{ throw new Error(${JSON.stringify(MSG)}); }`,
  identifiers: new Set(["identifier"]),
};

/** Languages by file extension. */
export const SYNTAX: Record<string, SyntaxLang> = {
  py: {
    wasm: "tree-sitter-python/tree-sitter-python.wasm",
    functions: new Set(["function_definition"]),
    params: new Set(["parameters", "lambda_parameters"]),
    stub: () => `raise NotImplementedError(${JSON.stringify(MSG)})`,
    identifiers: new Set(["identifier"]),
  },
  js: { wasm: "tree-sitter-javascript/tree-sitter-javascript.wasm", ...JS },
  mjs: { wasm: "tree-sitter-javascript/tree-sitter-javascript.wasm", ...JS },
  cjs: { wasm: "tree-sitter-javascript/tree-sitter-javascript.wasm", ...JS },
  jsx: { wasm: "tree-sitter-javascript/tree-sitter-javascript.wasm", ...JS },
  ts: { wasm: "tree-sitter-typescript/tree-sitter-typescript.wasm", ...JS },
  mts: { wasm: "tree-sitter-typescript/tree-sitter-typescript.wasm", ...JS },
  cts: { wasm: "tree-sitter-typescript/tree-sitter-typescript.wasm", ...JS },
  tsx: { wasm: "tree-sitter-typescript/tree-sitter-tsx.wasm", ...JS },
  go: {
    wasm: "tree-sitter-go/tree-sitter-go.wasm",
    functions: new Set(["function_declaration", "method_declaration", "func_literal"]),
    params: new Set(["parameter_list"]),
    stub: () => `{ panic(${JSON.stringify(MSG)}) }`,
    identifiers: new Set(["identifier"]),
  },
};

export const extOf = (path: string) => (/\.([^./]+)$/.exec(path)?.[1] ?? "").toLowerCase();
/** The language of a path, when a grammar for it is known (type declarations excluded). */
export const syntaxFor = (path: string): SyntaxLang | undefined =>
  /\.d\.[mc]?ts$/.test(path) ? undefined : SYNTAX[extOf(path)];

const require = createRequire(import.meta.url);
let ready: Promise<void> | undefined;
const languages = new Map<string, Promise<Language>>();

/** Parse `source` with the grammar of `path`'s language; undefined when there is none. */
export async function parse(path: string, source: string): Promise<Tree | undefined> {
  const lang = syntaxFor(path);
  if (!lang) return undefined;
  ready ??= Parser.init();
  await ready;
  let l = languages.get(lang.wasm);
  if (!l) {
    l = Language.load(require.resolve(lang.wasm));
    languages.set(lang.wasm, l);
  }
  const parser = new Parser();
  try {
    parser.setLanguage(await l);
    return parser.parse(source) ?? undefined;
  } finally {
    parser.delete();
  }
}

/** Every node of a subtree, depth first. */
export function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.children) if (c) yield* walk(c);
}

/** A text edit in UTF-16 offsets (what web-tree-sitter's indices are). */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Apply non-overlapping edits (later ones first); overlapping ones are dropped. */
export function applyEdits(source: string, edits: Edit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = source;
  let floor = Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.end > floor) continue;
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    floor = e.start;
  }
  return out;
}

/** 1-based line numbers a unified diff section adds, in the new file's numbering. */
export function addedLineNumbers(section: string): Set<number> {
  const out = new Set<number>();
  let line = 0;
  let inHunk = false;
  for (const l of section.split("\n")) {
    const h = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
    if (h) {
      line = Number(h[1]);
      inHunk = true;
      continue;
    }
    if (!inHunk) continue;
    if (l.startsWith("+")) out.add(line++);
    else if (l.startsWith(" ")) line++;
    else if (l.startsWith("\\")) continue;
  }
  return out;
}

/**
 * The outermost functions of the tree that hold a line the fix adds (comment-only and blank lines aside):
 * the code the fix changed.
 */
export function touchedFunctions(tree: Tree, lang: SyntaxLang, added: Set<number>, source: string): Node[] {
  const lines = source.split("\n");
  const code = [...added].filter((n) => {
    const t = (lines[n - 1] ?? "").trim();
    return t !== "" && !/^(?:#|\/\/|\/\*|\*)/.test(t);
  });
  const out: Node[] = [];
  const visit = (n: Node) => {
    if (lang.functions.has(n.type)) {
      const [a, b] = [n.startPosition.row + 1, n.endPosition.row + 1];
      if (code.some((l) => l >= a && l <= b)) {
        out.push(n);
        return;
      }
    }
    for (const c of n.namedChildren) if (c) visit(c);
  };
  visit(tree.rootNode);
  return out;
}
