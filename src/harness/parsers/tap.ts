import type { TestResult, TestStatus } from "../../records/index.ts";
import { collector, indentOf, lines } from "./common.ts";

const RESULT = /^(not ok|ok)\b\s*(?:\d+)?\s*(?:-\s*)?(.*)$/;
const SUBTEST = /^# Subtest:\s*(.*)$/;

interface Pending {
  title: string;
  status: TestStatus;
  suite: boolean;
}

/**
 * Splits "desc # SKIP reason" at the first unescaped " # " that opens a directive (SKIP, TODO, node-tap's
 * "time=") and unescapes "\#". Any other " # " belongs to the title: ava prints titles unescaped.
 */
function description(text: string): { title: string; directive: string } {
  const m = /^(.*?)(?:^|(?<!\\)\s)#\s*((?:skip\w*|todo)\b.*|time=.*)$/i.exec(text);
  const title = (m ? m[1]! : text).replace(/\\#/g, "#").replace(/\\\\/g, "\\").trim();
  return { title, directive: m ? m[2]!.trim() : "" };
}

function status(ok: boolean, directive: string): TestStatus {
  if (/^(skip\w*|todo)\b/i.test(directive)) return "SKIPPED";
  return ok ? "PASSED" : "FAILED";
}

/**
 * TAP 13/14, node:test's TAP reporter included. Subtests are indented 4 spaces and precede their parent's
 * result line, so children wait at their depth until the parent's line names them: "parent › child".
 * node:test suites (YAML `type: 'suite'`) are dropped; their tests remain. YAML blocks are skipped.
 */
export function parseTap(log: string): TestResult[] {
  const out = collector();
  // waiting[d] = results at depth d whose parent line has not come yet (names relative to that parent)
  const waiting: Pending[][] = [];
  const subtestNames: string[] = [];
  let yamlIndent = -1;
  let last: Pending | undefined;
  const at = (depth: number): Pending[] => {
    while (waiting.length <= depth) waiting.push([]);
    return waiting[depth]!;
  };
  const flushInto = (depth: number, parent: string): Pending[] => {
    const kids = waiting[depth] ?? [];
    waiting.length = Math.min(waiting.length, depth);
    return kids.map((k) => ({ ...k, title: `${parent} › ${k.title}` }));
  };
  for (const raw of lines(log)) {
    const line = raw.trimEnd();
    const indent = indentOf(line);
    const text = line.trim();
    if (yamlIndent >= 0) {
      if (text === "..." && indent === yamlIndent) yamlIndent = -1;
      else if (last && /^type:\s*'?suite'?$/.test(text)) last.suite = true;
      continue;
    }
    if (text === "---" && last) {
      yamlIndent = indent;
      continue;
    }
    const depth = Math.floor(indent / 4);
    const sub = SUBTEST.exec(text);
    if (sub) {
      subtestNames.length = depth;
      subtestNames[depth] = sub[1]!.replace(/\\#/g, "#");
      continue;
    }
    const r = RESULT.exec(text);
    if (!r) continue;
    const { title, directive } = description(r[2]!);
    const me: Pending = { title, status: status(r[1] === "ok", directive), suite: false };
    const kids = flushInto(depth + 1, title);
    at(depth).push(...kids, me);
    last = me;
  }
  // Lines left deeper than the top belong to parents that never reported (a crash): name them by "# Subtest:".
  for (let d = waiting.length - 1; d > 0; d--) {
    const parent = subtestNames.slice(0, d).join(" › ");
    for (const k of waiting[d] ?? []) {
      at(0).push({ ...k, title: parent ? `${parent} › ${k.title}` : k.title });
    }
  }
  for (const r of waiting[0] ?? []) if (!r.suite) out.add(r.title, r.status);
  return out.results();
}
