/** The whole bad-input corpus, and its table by kind and outcome (the README's, printed by table.ts). */

import { folderStoreCases } from "./cases-folders.ts";
import { inputCases } from "./cases-inputs.ts";
import { optionCases } from "./cases-options.ts";
import { universeCases } from "./cases-universe.ts";
import type { Case } from "./harness.ts";

export const CORPUS: Case[] = [...optionCases, ...folderStoreCases, ...inputCases, ...universeCases];

export const OUTCOME: Record<number, string> = {
  0: "done (0)",
  1: "failed, reported (1)",
  2: "bad arguments (2)",
  3: "bad input (3)",
  4: "outside unavailable (4)",
};

/** Markdown: one row per kind, one column per expected exit code, and the verbs each kind covers. */
export function corpusTable(cases: readonly Case[] = CORPUS): string {
  const kinds = [...new Set(cases.map((c) => c.kind))];
  const codes = [...new Set(cases.map((c) => c.code))].sort((a, b) => a - b);
  const head = `| kind | ${codes.map((c) => OUTCOME[c] ?? String(c)).join(" | ")} | cases | verbs |`;
  const rule = `| --- | ${codes.map(() => "---").join(" | ")} | --- | --- |`;
  const rows = kinds.map((k) => {
    const of = cases.filter((c) => c.kind === k);
    const verbs = [...new Set(of.map((c) => c.verb))].sort().join(", ");
    return `| ${k} | ${codes.map((code) => of.filter((c) => c.code === code).length || "").join(" | ")} | ${of.length} | ${verbs} |`;
  });
  const total = `| **all** | ${codes.map((code) => cases.filter((c) => c.code === code).length).join(" | ")} | **${cases.length}** | ${new Set(cases.map((c) => c.verb).filter((v) => v !== "(none)")).size} verbs |`;
  return [head, rule, ...rows, total].join("\n");
}
