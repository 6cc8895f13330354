/**
 * The source files a synthetic bug is made in, parsed: their functions (with qualified names, so the same
 * function can be found at another commit) and the edits that turn a file into its buggy version.
 */
import { LANGS, type LangSpec, langKeyFor, type Node, parse, type Tree } from "./lang.ts";

export interface SourceFile {
  path: string;
  text: string;
  /** Key of the language table entry (src/synth/lang.ts). */
  lang: string;
  tree: Tree;
}

export interface FunctionSite {
  file: SourceFile;
  node: Node;
  body: Node;
  /** Qualified name: enclosing classes, impls and functions, then the function's own name. */
  name: string;
}

/** A replacement of text[start, end) (string indices, as tree-sitter gives them). */
export interface Edit {
  start: number;
  end: number;
  text: string;
}

export function specOf(f: SourceFile): LangSpec {
  return LANGS[f.lang]!;
}

/** Parse `text`; undefined for files the grammar does not know or cannot read cleanly at the commit. */
export async function sourceFile(path: string, text: string): Promise<SourceFile | undefined> {
  const lang = langKeyFor(path);
  if (!lang) return undefined;
  const tree = await parse(path, text);
  if (!tree) return undefined;
  // A file the grammar already misreads would make every mutation look unparsable: leave it out.
  if (tree.rootNode.hasError) {
    tree.delete();
    return undefined;
  }
  return { path, text, lang, tree };
}

function nameOf(n: Node): string | undefined {
  if (n.type === "impl_item") return n.childForFieldName("type")?.text;
  const own = n.childForFieldName("name");
  if (own) return own.text;
  // `const f = () => …`, `x.f = function () {}`: the declarator's or assignment's name.
  const p = n.parent;
  if (p?.type === "variable_declarator") return p.childForFieldName("name")?.text;
  if (p?.type === "pair") return p.childForFieldName("key")?.text;
  if (p?.type === "assignment_expression") return p.childForFieldName("left")?.text;
  return undefined;
}

export function qualifiedName(f: SourceFile, n: Node): string {
  const spec = specOf(f);
  const parts: string[] = [nameOf(n) ?? `<anonymous@${n.startPosition.row + 1}>`];
  for (let p = n.parent; p; p = p.parent) {
    if (!spec.scopes.includes(p.type)) continue;
    const name = nameOf(p);
    if (name) parts.unshift(name);
  }
  return parts.join(".");
}

/** Every function with a body in a file, outermost first. */
export function functionsOf(f: SourceFile): FunctionSite[] {
  const spec = specOf(f);
  const out: FunctionSite[] = [];
  for (const node of f.tree.rootNode.descendantsOfType(spec.functions)) {
    if (!node) continue;
    const body = node.childForFieldName("body");
    if (!body || !spec.bodies.includes(body.type)) continue;
    out.push({ file: f, node, body, name: qualifiedName(f, node) });
  }
  return out;
}

/** Apply non-overlapping edits to a text (any order given). */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

export function freeTrees(files: readonly SourceFile[]): void {
  for (const f of files) f.tree.delete();
}
