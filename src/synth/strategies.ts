/**
 * Bug-injection strategies, a table keyed by name (SWE-smith's procedural rewrites, Self-Play SWE-RL's hunk
 * removal and history reversion, an LLM rewrite). Each proposes mutations of functions at the
 * environment's commit; none runs anything: validation decides which become tasks (src/synth/candidate.ts).
 * Strategies that need no model are deterministic for a given seed.
 */
import type { Model, Usage } from "../model/model.ts";
import type { Node } from "./lang.ts";
import { type Edit, type FunctionSite, specOf } from "./source.ts";

export interface Mutation {
  strategy: string;
  /** Qualified names of the functions it changes. */
  symbols: string[];
  /** What was done, for the record (never shown to the solver). */
  note: string;
  changes: { path: string; edits: Edit[] }[];
}

/** A function a recent commit changed, and the same function before that commit. */
export interface RecentChange {
  site: FunctionSite;
  commit: string;
  /** The function's text before the commit. */
  before: string;
  /** Rows (0-based, at the environment's commit) of the lines the commit added inside the function. */
  added: number[];
}

export interface StrategyContext {
  functions: FunctionSite[];
  recent: RecentChange[];
  model?: Model;
  signal?: AbortSignal;
  /** Model tokens and money spent by the strategies. */
  usage: Usage & { usd: number };
  /** Deterministic numbers in [0, 1). */
  rng: () => number;
  limit: number;
}

export interface Strategy {
  name: string;
  /** What it cannot run without (it proposes nothing then). */
  needs?: "model" | "history";
  propose(ctx: StrategyContext): Mutation[] | Promise<Mutation[]>;
}

/** Fisher–Yates with the given numbers. */
export function shuffle<T>(xs: readonly T[], rng: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** One site from each function in turn (functions in random order), so bugs spread over the code. */
export function pickAcross(
  fns: readonly FunctionSite[],
  sitesOf: (fn: FunctionSite) => Mutation[],
  limit: number,
  rng: () => number,
): Mutation[] {
  const out: Mutation[] = [];
  for (const fn of shuffle(fns, rng)) {
    if (out.length >= limit) break;
    const sites = sitesOf(fn);
    if (sites.length) out.push(sites[Math.floor(rng() * sites.length)]!);
  }
  return out;
}

const one = (strategy: string, fn: FunctionSite, note: string, edit: Edit): Mutation => ({
  strategy,
  symbols: [fn.name],
  note,
  changes: [{ path: fn.file.path, edits: [edit] }],
});

const replaceNode = (n: Node, text: string): Edit => ({ start: n.startIndex, end: n.endIndex, text });

const line = (n: Node) => n.startPosition.row + 1;

/** Nodes of `types` inside a function's body (nested functions included). */
const inside = (fn: FunctionSite, types: string[]) =>
  types.length ? fn.body.descendantsOfType(types).filter((n): n is Node => !!n) : [];

/** Operator changes: each operator to one that reads alike and means something else. */
export const OPERATOR_SWAPS: Record<string, string> = {
  "<": "<=",
  "<=": "<",
  ">": ">=",
  ">=": ">",
  "==": "!=",
  "!=": "==",
  "===": "!==",
  "!==": "===",
  "+": "-",
  "-": "+",
  "*": "/",
  "/": "*",
  "//": "/",
  "%": "//",
  "&&": "||",
  "||": "&&",
  and: "or",
  or: "and",
  in: "not in",
  "not in": "in",
  is: "is not",
  "is not": "is",
  "<<": ">>",
  ">>": "<<",
  "&": "|",
  "|": "&",
};

function operatorToken(n: Node): Node | undefined {
  const op = n.childForFieldName("operator");
  if (op) return op;
  // Python's comparison_operator keeps its operators as anonymous children.
  const ops = n.children.filter((c): c is Node => !!c && !c.isNamed);
  return ops.length === 1 ? ops[0] : undefined;
}

function operatorSites(fn: FunctionSite): Mutation[] {
  const spec = specOf(fn.file);
  return inside(fn, spec.binaries).flatMap((n) => {
    const op = operatorToken(n);
    let to = op ? OPERATOR_SWAPS[op.text] : undefined;
    if (!op || !to) return [];
    // Python's floor division: `%` → `//`, but in JS/Go/Rust/Java `//` starts a comment.
    if (to === "//" && fn.file.lang !== "python") to = "*";
    if ((to === "not in" || to === "is not" || to === "is") && fn.file.lang !== "python") return [];
    return [one("change-operator", fn, `${op.text} → ${to} at line ${line(op)}`, replaceNode(op, to))];
  });
}

function constantSites(fn: FunctionSite): Mutation[] {
  const spec = specOf(fn.file);
  const ints = inside(fn, spec.integers).flatMap((n) => {
    const m = /^(\d+)([A-Za-z_0-9]*)$/.exec(n.text);
    if (!m || m[1]!.length > 9 || /^0\d/.test(m[1]!)) return [];
    const v = Number(m[1]);
    const to = v === 0 ? 1 : v === 1 ? 0 : v - 1;
    return [
      one(
        "change-constant",
        fn,
        `${n.text} → ${to}${m[2]} at line ${line(n)}`,
        replaceNode(n, `${to}${m[2]}`),
      ),
    ];
  });
  const flip: Record<string, string> = { true: "false", false: "true", True: "False", False: "True" };
  const bools = inside(fn, spec.booleans).flatMap((n) => {
    const to = flip[n.text];
    return to ? [one("change-constant", fn, `${n.text} → ${to} at line ${line(n)}`, replaceNode(n, to))] : [];
  });
  return [...ints, ...bools];
}

function conditionSites(fn: FunctionSite): Mutation[] {
  const spec = specOf(fn.file);
  return inside(fn, spec.conditionals).flatMap((n) => {
    const cond = n.childForFieldName("condition");
    // Rust's `if let` / `while let` bind names: their negation does not compile, so they are left alone.
    if (!cond || /let_(condition|chain)/.test(cond.type)) return [];
    const paren = cond.type === "parenthesized_expression";
    const inner = paren ? cond.text.slice(1, -1) : cond.text;
    const text = paren ? `(${spec.negate(inner)})` : spec.negate(inner);
    return [one("invert-condition", fn, `condition at line ${line(cond)} negated`, replaceNode(cond, text))];
  });
}

function swapSites(fn: FunctionSite): Mutation[] {
  const spec = specOf(fn.file);
  return inside(fn, spec.calls).flatMap((n) => {
    const args = n.childForFieldName("arguments");
    const positional = (args?.namedChildren ?? []).filter(
      (a): a is Node => !!a && a.type !== "comment" && !spec.nonPositional.includes(a.type),
    );
    const [a, b] = positional;
    if (!a || !b || a.text === b.text) return [];
    // Only the leading positional arguments: a keyword argument between them would change meaning twice.
    if ((args?.namedChildren ?? []).indexOf(b) !== (args?.namedChildren ?? []).indexOf(a) + 1) return [];
    return [
      {
        strategy: "swap-arguments",
        symbols: [fn.name],
        note: `arguments 1 and 2 of the call at line ${line(n)} swapped`,
        changes: [{ path: fn.file.path, edits: [replaceNode(a, b.text), replaceNode(b, a.text)] }],
      },
    ];
  });
}

/** A block's statements (Go's grammar wraps them in a statement_list), comments left out. */
export function statementsOf(block: Node): Node[] {
  const kids = block.namedChildren.filter((k): k is Node => !!k && k.type !== "comment");
  const only = kids.length === 1 ? kids[0]! : undefined;
  return only?.type === "statement_list" ? statementsOf(only) : kids;
}

/** A body worth removing: more than a single trivial statement. */
const substantial = (fn: FunctionSite) => statementsOf(fn.body).length >= 2 || fn.body.text.length > 80;

function bodySite(fn: FunctionSite): Mutation[] {
  if (!substantial(fn)) return [];
  const stub = specOf(fn.file).stub(fn.node, fn.body);
  // Python's body is the indented block after the colon; braced languages replace the braces too.
  const edit = replaceNode(fn.body, stub);
  return [one("remove-body", fn, `body of ${fn.name} removed`, edit)];
}

/** Statements of a block that may be removed alone (never the only one, never a bare declaration). */
function removableStatements(body: Node): Node[] {
  const kids = statementsOf(body);
  if (kids.length < 2) return [];
  return kids.filter((k) => !/declaration|definition|import|package|use_declaration/.test(k.type));
}

/** Remove one statement (a hunk) that a recent commit added to a function (Self-Play SWE-RL's hunk removal). */
function hunkSites(rc: RecentChange): Mutation[] {
  const fn = rc.site;
  const blocks = [fn.body, ...fn.body.descendantsOfType(specOf(fn.file).bodies)].filter(
    (b): b is Node => !!b,
  );
  const added = new Set(rc.added);
  return blocks.flatMap((b) =>
    removableStatements(b)
      .filter((s) => {
        for (let r = s.startPosition.row; r <= s.endPosition.row; r++) if (added.has(r)) return true;
        return false;
      })
      .map((s) => {
        // The whole lines the statement spans, so no blank indentation is left behind.
        const text = fn.file.text;
        const start = text.lastIndexOf("\n", s.startIndex - 1) + 1;
        const nl = text.indexOf("\n", s.endIndex);
        const end = nl < 0 ? text.length : nl + 1;
        return one(
          "remove-hunk",
          fn,
          `lines ${line(s)}–${s.endPosition.row + 1} removed (${rc.commit.slice(0, 10)})`,
          {
            start,
            end,
            text: "",
          },
        );
      }),
  );
}

function historySite(rc: RecentChange): Mutation {
  return one(
    "history-revert",
    rc.site,
    `${rc.site.name} as it was before ${rc.commit.slice(0, 10)}`,
    replaceNode(rc.site.node, rc.before),
  );
}

/** One recent change per function (the newest), functions in random order. */
function recentPicks<T>(ctx: StrategyContext, sitesOf: (rc: RecentChange) => T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const rc of shuffle(ctx.recent, ctx.rng)) {
    const key = `${rc.site.file.path}\0${rc.site.name}`;
    if (seen.has(key) || out.length >= ctx.limit) continue;
    const sites = sitesOf(rc);
    if (!sites.length) continue;
    seen.add(key);
    out.push(sites[Math.floor(ctx.rng() * sites.length)]!);
  }
  return out;
}

const REWRITE_TOOL = {
  name: "rewrite",
  description: "Return the function rewritten with one subtle bug, and what the bug is.",
  parameters: {
    type: "object",
    properties: {
      code: { type: "string", description: "the whole function, same signature, with the bug" },
      bug: { type: "string", description: "one sentence: what now goes wrong" },
    },
    required: ["code", "bug"],
  },
};

/** Ask the model for a buggy rewrite of a function (SWE-smith's LLM rewrite); undefined when it gives none. */
async function rewrite(fn: FunctionSite, ctx: StrategyContext): Promise<Mutation | undefined> {
  const lang = fn.file.lang;
  const reply = await ctx.model!.complete(
    [
      {
        role: "system",
        content:
          "You inject realistic bugs into source code for training software engineers. Rewrite the given function so that it keeps its signature and still compiles, but behaves wrongly in some cases a unit test would catch — the kind of mistake a developer makes while changing code. Do not add comments that point at the bug. Answer only with the rewrite tool.",
      },
      {
        role: "user",
        content: `File ${fn.file.path} (${lang}), function ${fn.name}:\n\n${fn.node.text}`,
      },
    ],
    { tools: [REWRITE_TOOL], toolChoice: "rewrite", signal: ctx.signal, temperature: 0.8 },
  );
  ctx.usage.prompt_tokens += reply.usage.prompt_tokens;
  ctx.usage.completion_tokens += reply.usage.completion_tokens;
  ctx.usage.usd += reply.usd;
  const call = reply.tool_calls.find((c) => c.name === "rewrite");
  let args: { code?: unknown; bug?: unknown } = {};
  try {
    args = call ? JSON.parse(call.arguments) : {};
  } catch {
    return undefined;
  }
  if (typeof args.code !== "string" || args.code.trim() === fn.node.text.trim()) return undefined;
  return one(
    "llm-rewrite",
    fn,
    `model: ${String(args.bug ?? "").slice(0, 300)}`,
    replaceNode(fn.node, args.code.trim()),
  );
}

const procedural = (name: string, sitesOf: (fn: FunctionSite) => Mutation[]): Strategy => ({
  name,
  propose: (ctx) => pickAcross(ctx.functions, sitesOf, ctx.limit, ctx.rng),
});

export const STRATEGIES: Record<string, Strategy> = {
  "remove-body": procedural("remove-body", bodySite),
  "remove-hunk": { name: "remove-hunk", needs: "history", propose: (ctx) => recentPicks(ctx, hunkSites) },
  "invert-condition": procedural("invert-condition", conditionSites),
  "change-operator": procedural("change-operator", operatorSites),
  "change-constant": procedural("change-constant", constantSites),
  "swap-arguments": procedural("swap-arguments", swapSites),
  "history-revert": {
    name: "history-revert",
    needs: "history",
    propose: (ctx) => recentPicks(ctx, (rc) => [historySite(rc)]),
  },
  "llm-rewrite": {
    name: "llm-rewrite",
    needs: "model",
    async propose(ctx) {
      const out: Mutation[] = [];
      // At most twice the limit of calls: a model that keeps answering nothing usable costs that much.
      const asked = shuffle(ctx.functions.filter(substantial), ctx.rng).slice(0, ctx.limit * 2);
      for (const fn of asked) {
        if (out.length >= ctx.limit) break;
        const m = await rewrite(fn, ctx);
        if (m) out.push(m);
      }
      return out;
    },
  },
};

export type StrategyName = keyof typeof STRATEGIES;

/** A seeded generator (mulberry32) from any string. */
export function seeded(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
