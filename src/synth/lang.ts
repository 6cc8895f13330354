/**
 * The languages synthetic bugs are made in, as a table: each entry names its tree-sitter grammar (the
 * `.wasm` file its npm package ships, loaded by web-tree-sitter, so nothing is compiled natively) and the
 * node types the strategies look for. A new language is one entry; the strategies do not change.
 */
import { createRequire } from "node:module";
import { Language, type Node, Parser, type Tree } from "web-tree-sitter";
import type { Language as Lang } from "../records/index.ts";

export type { Node, Tree } from "web-tree-sitter";

export interface LangSpec {
  /** Our language names this entry serves. */
  languages: Lang[];
  /** File extensions (no dot). */
  extensions: string[];
  /** `package/file.wasm` of the grammar. */
  grammar: string;
  /** Node types that are functions or methods with a body. */
  functions: string[];
  /** The body field's node types that can be replaced by a stub. */
  bodies: string[];
  /** Statements whose `condition` field can be inverted. */
  conditionals: string[];
  /** Binary expression types whose operator token can be changed. */
  binaries: string[];
  /** Integer literal and boolean literal node types. */
  integers: string[];
  booleans: string[];
  /** Call expressions and their arguments node type. */
  calls: string[];
  /** Argument node types that are not positional (keyword arguments, spreads): never swapped. */
  nonPositional: string[];
  /** Negate an expression's source text. */
  negate: (expr: string) => string;
  /** A stub body for a function node (its text replaces the body). */
  stub: (fn: Node, body: Node) => string;
  /** Containers whose name is part of a function's qualified name. */
  scopes: string[];
}

const indentOf = (n: Node) => " ".repeat(n.startPosition.column);

/** Braced stub: `{}` for functions without a result, else `{ <stmt> }`. */
const braced = (hasResult: (fn: Node) => boolean, stmt: string) => (fn: Node) =>
  hasResult(fn) ? `{\n${indentOf(fn)}\t${stmt}\n${indentOf(fn)}}` : "{\n}";

export const LANGS: Record<string, LangSpec> = {
  python: {
    languages: ["python"],
    extensions: ["py"],
    grammar: "tree-sitter-python/tree-sitter-python.wasm",
    functions: ["function_definition"],
    bodies: ["block"],
    conditionals: ["if_statement", "elif_clause", "while_statement"],
    binaries: ["binary_operator", "comparison_operator", "boolean_operator"],
    integers: ["integer"],
    booleans: ["true", "false"],
    calls: ["call"],
    nonPositional: ["keyword_argument", "list_splat", "dictionary_splat", "parenthesized_list_splat"],
    negate: (e) => `not (${e})`,
    // Keep a docstring; the rest becomes `pass` (the function returns None).
    stub: (_fn, body) => {
      const first = body.namedChildren[0];
      const doc = first?.type === "expression_statement" && first.namedChildren[0]?.type === "string";
      return doc ? `${first.text}\n${indentOf(body)}pass` : "pass";
    },
    scopes: ["class_definition", "function_definition"],
  },
  javascript: {
    languages: ["javascript", "typescript"],
    extensions: ["js", "mjs", "cjs", "jsx"],
    grammar: "tree-sitter-javascript/tree-sitter-javascript.wasm",
    functions: [
      "function_declaration",
      "function_expression",
      "generator_function_declaration",
      "method_definition",
      "arrow_function",
    ],
    bodies: ["statement_block"],
    conditionals: ["if_statement", "while_statement", "ternary_expression", "do_statement"],
    binaries: ["binary_expression"],
    integers: ["number"],
    booleans: ["true", "false"],
    calls: ["call_expression"],
    nonPositional: ["spread_element"],
    negate: (e) => `!(${e})`,
    stub: () => "{}",
    scopes: ["class_declaration", "class", "function_declaration", "method_definition"],
  },
  go: {
    languages: ["go"],
    extensions: ["go"],
    grammar: "tree-sitter-go/tree-sitter-go.wasm",
    functions: ["function_declaration", "method_declaration", "func_literal"],
    bodies: ["block"],
    conditionals: ["if_statement"],
    binaries: ["binary_expression"],
    integers: ["int_literal"],
    booleans: ["true", "false"],
    calls: ["call_expression"],
    nonPositional: ["variadic_argument"],
    negate: (e) => `!(${e})`,
    stub: braced((fn) => !!fn.childForFieldName("result"), 'panic("not implemented")'),
    scopes: ["method_declaration", "function_declaration"],
  },
  rust: {
    languages: ["rust"],
    extensions: ["rs"],
    grammar: "tree-sitter-rust/tree-sitter-rust.wasm",
    functions: ["function_item", "closure_expression"],
    bodies: ["block"],
    conditionals: ["if_expression", "while_expression"],
    binaries: ["binary_expression"],
    integers: ["integer_literal"],
    booleans: ["boolean_literal"],
    calls: ["call_expression"],
    nonPositional: [],
    negate: (e) => `!(${e})`,
    stub: braced((fn) => !!fn.childForFieldName("return_type"), "todo!()"),
    scopes: ["impl_item", "trait_item", "mod_item", "function_item"],
  },
  java: {
    languages: ["java"],
    extensions: ["java"],
    grammar: "tree-sitter-java/tree-sitter-java.wasm",
    functions: ["method_declaration", "constructor_declaration", "lambda_expression"],
    bodies: ["block", "constructor_body"],
    conditionals: ["if_statement", "while_statement", "ternary_expression", "do_statement"],
    binaries: ["binary_expression"],
    integers: ["decimal_integer_literal"],
    booleans: ["true", "false"],
    calls: ["method_invocation", "object_creation_expression"],
    nonPositional: [],
    negate: (e) => `!(${e})`,
    stub: braced(
      (fn) => fn.type === "method_declaration" && fn.childForFieldName("type")?.type !== "void_type",
      "throw new UnsupportedOperationException();",
    ),
    scopes: ["class_declaration", "interface_declaration", "enum_declaration", "method_declaration"],
  },
};

/** TypeScript shares JavaScript's node types; only its grammar differs (two: .ts and .tsx). */
const TS: LangSpec = {
  ...LANGS.javascript!,
  languages: ["typescript"],
  extensions: ["ts", "mts", "cts"],
  grammar: "tree-sitter-typescript/tree-sitter-typescript.wasm",
  scopes: [...LANGS.javascript!.scopes, "abstract_class_declaration"],
};
LANGS.typescript = TS;
LANGS.tsx = { ...TS, extensions: ["tsx"], grammar: "tree-sitter-typescript/tree-sitter-tsx.wasm" };

/** The table entry for a path, by extension. */
export function langKeyFor(path: string): string | undefined {
  const ext = path.split(".").pop()?.toLowerCase() ?? "";
  if (path.endsWith(".d.ts")) return undefined;
  return Object.keys(LANGS).find((k) => LANGS[k]!.extensions.includes(ext));
}

const require = createRequire(import.meta.url);
let init: Promise<void> | undefined;
const loaded = new Map<string, Promise<Parser>>();

/** A parser for a table entry; grammars are loaded once per process. */
export function parserFor(key: string): Promise<Parser> {
  let p = loaded.get(key);
  if (!p) {
    const spec = LANGS[key];
    if (!spec) throw new Error(`no grammar for ${key}`);
    init ??= Parser.init();
    p = init.then(async () => {
      const parser = new Parser();
      parser.setLanguage(await Language.load(require.resolve(spec.grammar)));
      return parser;
    });
    loaded.set(key, p);
  }
  return p;
}

/** Parse a file's text; undefined when the grammar cannot (a timeout or an unknown extension). */
export async function parse(path: string, text: string): Promise<Tree | undefined> {
  const key = langKeyFor(path);
  if (!key) return undefined;
  return (await parserFor(key)).parse(text) ?? undefined;
}

/** Whether a text parses without syntax errors in its language (the first check of every mutation). */
export async function parsesCleanly(path: string, text: string): Promise<boolean> {
  const tree = await parse(path, text);
  if (!tree) return false;
  try {
    return !tree.rootNode.hasError;
  } finally {
    tree.delete();
  }
}
