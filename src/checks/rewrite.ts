/**
 * Code transforms for the behaviour probes, on real syntax trees (src/checks/syntax.ts), applied to the
 * functions a fix changed:
 * - an equivalent rewrite: locals renamed, two adjacent independent statements swapped, returned and
 *   assigned expressions parenthesised. Behaviour is the same, the text is not: an honest verifier still
 *   passes; one that checks the fix's text, a hash or a size of the file does not;
 * - stubs: each changed function's body replaced by one that throws. Names, signatures and every other line
 *   stay: a verifier that checks that a function exists, or imports the module, still passes; one that runs
 *   the function does not.
 * Each pass is kept only when the result parses without errors; the guards leave a name or a statement
 * alone whenever renaming or moving it could change what the code does.
 */
import {
  addedLineNumbers,
  applyEdits,
  type Edit,
  type Node,
  parse,
  type SyntaxLang,
  syntaxFor,
  touchedFunctions,
  walk,
} from "./syntax.ts";

export interface Rewritten {
  source: string;
  /** What was changed, in words ("renamed low → sweu_v1 in clamp", …). */
  changes: string[];
}

/** Names whose use means a function reads its own variables by name: renaming would change it. */
const INTROSPECTION = new Set([
  "locals",
  "vars",
  "eval",
  "exec",
  "globals",
  "_getframe",
  "arguments",
  "f_locals",
]);

const bodyOf = (fn: Node) => fn.childForFieldName("body");

/** Names bound inside a function body (assignments, loop targets, declarations), parameters left out. */
function boundNames(body: Node, ext: string): Set<string> {
  const out = new Set<string>();
  const idents = (n: Node | null) => {
    if (!n) return;
    for (const x of walk(n)) if (x.type === "identifier") out.add(x.text);
  };
  for (const n of walk(body)) {
    if (ext === "py") {
      if (n.type === "assignment" || n.type === "augmented_assignment") {
        const left = n.childForFieldName("left");
        if (left && /^(?:identifier|pattern_list|tuple_pattern|list_pattern)$/.test(left.type)) idents(left);
      }
      if (n.type === "for_statement" || n.type === "for_in_clause") idents(n.childForFieldName("left"));
      if (n.type === "named_expression") idents(n.childForFieldName("name"));
      if (n.type === "as_pattern") idents(n.childForFieldName("alias"));
    } else if (ext === "go") {
      if (n.type === "short_var_declaration") idents(n.childForFieldName("left"));
      if (n.type === "var_spec") for (const c of n.childrenForFieldName("name")) idents(c);
      if (n.type === "range_clause") idents(n.childForFieldName("left"));
    } else if (n.type === "variable_declarator") {
      const name = n.childForFieldName("name");
      if (name?.type === "identifier") out.add(name.text);
    }
  }
  out.delete("_");
  return out;
}

/** Names that must keep their spelling: declared global, imported, struct keys, shorthand properties… */
function pinnedNames(fn: Node, ext: string): Set<string> {
  const out = new Set<string>();
  for (const n of walk(fn)) {
    const t = n.type;
    if (
      /^(?:global_statement|nonlocal_statement|import_statement|import_from_statement|future_import_statement)$/.test(
        t,
      )
    )
      for (const x of walk(n)) if (x.type === "identifier") out.add(x.text);
    if (/^shorthand_property_identifier/.test(t)) out.add(n.text);
    if (t === "keyed_element" && ext === "go") {
      const key = n.namedChildren[0];
      if (key) for (const x of walk(key)) if (x.type === "identifier") out.add(x.text);
    }
    if (t === "class_definition" || (t === "with_statement" && ext !== "py")) out.add("*");
  }
  return out;
}

/** Identifier occurrences of `name` in `scope` that refer to a variable (not attributes, kwarg names). */
function occurrences(scope: Node, name: string): Node[] {
  const out: Node[] = [];
  for (const n of walk(scope)) {
    if (n.type !== "identifier" || n.text !== name) continue;
    const p = n.parent;
    if (p?.type === "keyword_argument" && p.childForFieldName("name")?.equals(n)) continue;
    if (p?.type === "attribute" && p.childForFieldName("attribute")?.equals(n)) continue;
    out.push(n);
  }
  return out;
}

/** Rename the locals of the changed functions to fresh names. */
function renameLocals(source: string, fns: Node[], lang: SyntaxLang, ext: string, root: Node): Rewritten {
  const edits: Edit[] = [];
  const changes: string[] = [];
  let k = 0;
  const fresh = () => {
    for (;;) {
      const name = `sweu_v${++k}`;
      if (!source.includes(name)) return name;
    }
  };
  for (const fn of fns) {
    const body = bodyOf(fn);
    if (!body) continue;
    if ([...walk(fn)].some((n) => n.type === "identifier" && INTROSPECTION.has(n.text))) continue;
    const pinned = pinnedNames(fn, ext);
    if (pinned.has("*")) continue;
    const params = new Set<string>();
    for (const c of fn.namedChildren)
      if (c && lang.params.has(c.type))
        for (const x of walk(c)) if (x.type === "identifier") params.add(x.text);
    const outside = new Set<string>();
    for (const n of walk(root))
      if (n.type === "identifier" && !(n.startIndex >= body.startIndex && n.endIndex <= body.endIndex))
        outside.add(n.text);
    for (const name of boundNames(body, ext)) {
      if (params.has(name) || pinned.has(name) || outside.has(name)) continue;
      const to = fresh();
      for (const o of occurrences(body, name)) edits.push({ start: o.startIndex, end: o.endIndex, text: to });
      changes.push(`renamed ${name} → ${to}`);
    }
  }
  return { source: applyEdits(source, edits), changes };
}

/** A statement `name = <identifier or literal>`: (target, value node) when it is one. */
function simpleAssignment(s: Node, ext: string): { target: string; value: Node } | undefined {
  let left: Node | null = null;
  let right: Node | null = null;
  if (ext === "py" && s.type === "expression_statement" && s.namedChildren[0]?.type === "assignment") {
    const a = s.namedChildren[0]!;
    left = a.childForFieldName("left");
    right = a.childForFieldName("right");
    if (a.childForFieldName("type")) return undefined;
  } else if (ext === "go" && s.type === "short_var_declaration") {
    const l = s.childForFieldName("left");
    const r = s.childForFieldName("right");
    if (l?.namedChildCount !== 1 || r?.namedChildCount !== 1) return undefined;
    left = l.namedChildren[0]!;
    right = r.namedChildren[0]!;
  } else if (/^(?:lexical_declaration|variable_declaration)$/.test(s.type) && s.namedChildCount === 1) {
    const d = s.namedChildren[0]!;
    if (d.type !== "variable_declarator" || d.childForFieldName("type")) return undefined;
    left = d.childForFieldName("name");
    right = d.childForFieldName("value");
  }
  if (!left || !right || left.type !== "identifier") return undefined;
  const literal =
    /^(?:identifier|integer|float|int_literal|float_literal|number|string|interpreted_string_literal|raw_string_literal|true|false|none|null|undefined|nil)$/;
  if (
    !literal.test(right.type) ||
    right.namedChildren.some((c) => c?.type === "interpolation" || c?.type === "template_substitution")
  )
    return undefined;
  return { target: left.text, value: right };
}

/** Swap the first two adjacent independent `x = literal` statements of each changed function. */
function reorder(source: string, fns: Node[], ext: string): Rewritten {
  const edits: Edit[] = [];
  const changes: string[] = [];
  for (const fn of fns) {
    const blocks = [...walk(bodyOf(fn) ?? fn)].filter((n) =>
      /^(?:block|statement_block|statement_list)$/.test(n.type),
    );
    found: for (const b of blocks) {
      const stmts = b.namedChildren.filter((c): c is Node => !!c && c.type !== "comment");
      for (let i = 0; i + 1 < stmts.length; i++) {
        const [x, y] = [stmts[i]!, stmts[i + 1]!];
        const a = simpleAssignment(x, ext);
        const c = simpleAssignment(y, ext);
        if (!a || !c || a.target === c.target || a.value.text === c.target || c.value.text === a.target)
          continue;
        if (x.startPosition.row === y.startPosition.row) continue;
        edits.push(
          { start: x.startIndex, end: x.endIndex, text: y.text },
          { start: y.startIndex, end: y.endIndex, text: x.text },
        );
        changes.push(`swapped \`${x.text.slice(0, 40)}\` and \`${y.text.slice(0, 40)}\``);
        break found;
      }
    }
  }
  return { source: applyEdits(source, edits), changes };
}

/** Expressions a statement returns or assigns, which parentheses leave as they are. */
function wrappable(n: Node, ext: string): Node | undefined {
  const one = (x: Node | null | undefined) =>
    x && x.type !== "parenthesized_expression" && x.type !== "assignment" && x.type !== "list_splat"
      ? x
      : undefined;
  if (n.type === "return_statement") {
    const e = n.namedChildren.find((c) => c?.type !== "comment");
    if (!e) return undefined;
    if (e.type === "expression_list")
      return e.namedChildCount === 1 && ext === "go"
        ? one(e.namedChildren[0])
        : ext === "py"
          ? undefined
          : one(e);
    return one(e);
  }
  if (n.type === "assignment" && ext === "py" && n.parent?.type === "expression_statement")
    return one(n.childForFieldName("right"));
  // A function or class given to a declaration takes its name from it; parentheses are left off there.
  if (n.type === "variable_declarator") {
    const v = one(n.childForFieldName("value"));
    return v && !/function|arrow|class/.test(v.type) ? v : undefined;
  }
  if ((n.type === "short_var_declaration" || n.type === "assignment_statement") && ext === "go") {
    const r = n.childForFieldName("right");
    return r?.namedChildCount === 1 ? one(r.namedChildren[0]) : undefined;
  }
  return undefined;
}

/** Parenthesise what the changed functions return and assign. */
function parenthesise(source: string, fns: Node[], ext: string): Rewritten {
  const edits: Edit[] = [];
  for (const fn of fns)
    for (const n of walk(bodyOf(fn) ?? fn)) {
      const e = wrappable(n, ext);
      if (e && !e.text.includes("\n"))
        edits.push({ start: e.startIndex, end: e.endIndex, text: `(${e.text})` });
    }
  return {
    source: applyEdits(source, edits),
    changes: edits.length ? [`parenthesised ${edits.length} expressions`] : [],
  };
}

type Pass = (source: string, fns: Node[], lang: SyntaxLang, ext: string, root: Node) => Rewritten;
const PASSES: Pass[] = [
  renameLocals,
  (s, f, _l, e) => reorder(s, f, e),
  (s, f, _l, e) => parenthesise(s, f, e),
];

/**
 * An equivalent rewrite of the functions of `path` that a fix section changed (its added lines, in the
 * resolved file). Undefined when the language has no grammar here or nothing could be rewritten.
 */
export async function rewriteFix(
  path: string,
  resolved: string,
  section: string,
): Promise<Rewritten | undefined> {
  const lang = syntaxFor(path);
  if (!lang) return undefined;
  const ext = path.split(".").pop()!.toLowerCase();
  const added = addedLineNumbers(section);
  let source = resolved;
  const changes: string[] = [];
  for (const pass of PASSES) {
    const tree = await parse(path, source);
    if (!tree || tree.rootNode.hasError) break;
    const fns = touchedFunctions(tree, lang, added, source);
    if (!fns.length) break;
    const r = pass(source, fns, lang, ext.replace(/^(?:mjs|cjs|jsx|ts|mts|cts|tsx)$/, "js"), tree.rootNode);
    const check = r.changes.length ? await parse(path, r.source) : undefined;
    if (check && !check.rootNode.hasError) {
      source = r.source;
      changes.push(...r.changes);
    }
  }
  return changes.length ? { source, changes } : undefined;
}

/** The functions of `path` that the fix changed, their bodies replaced by one that throws. */
export async function stubFix(
  path: string,
  resolved: string,
  section: string,
): Promise<Rewritten | undefined> {
  const lang = syntaxFor(path);
  const tree = lang ? await parse(path, resolved) : undefined;
  if (!lang || !tree || tree.rootNode.hasError) return undefined;
  const edits: Edit[] = [];
  const changes: string[] = [];
  for (const fn of touchedFunctions(tree, lang, addedLineNumbers(section), resolved)) {
    const body = bodyOf(fn);
    if (!body) continue;
    edits.push({ start: body.startIndex, end: body.endIndex, text: lang.stub(body) });
    changes.push(
      `stubbed ${fn.childForFieldName("name")?.text ?? `the function at line ${fn.startPosition.row + 1}`}`,
    );
  }
  if (!edits.length) return undefined;
  const source = applyEdits(resolved, edits);
  const check = await parse(path, source);
  return check && !check.rootNode.hasError ? { source, changes } : undefined;
}
