/**
 * Problem statements for synthetic bugs, behind one small interface so another writer (issue 13's
 * problem-statement writer and its rule-based leak check) can stand in for these two: a template over the
 * failing tests' names and messages (no model; flagged `problem_statement_source: "template"`), and the
 * model (flagged "model") when one is configured. Neither may show the fix: lines of the bug or of its
 * reversal, and the changed files' paths, are kept out of what they quote or accept.
 */
import { MARK_PREFIX } from "../harness/output.ts";
import type { Model, Usage } from "../model/model.ts";
import type { StateRun } from "../records/index.ts";

export interface ProblemInput {
  repo: string;
  language: string;
  /** FAIL_TO_PASS tests. */
  failing: string[];
  /** Buggy-state runs (their log tails hold the failure messages). */
  runs: StateRun[];
  /** The bug (forward) patch: what must not be revealed, with its reversal. */
  bugPatch: string;
  files: string[];
}

export interface ProblemStatement {
  text: string;
  source: "template" | "model";
  usage?: Usage & { usd: number };
}

export interface ProblemWriter {
  readonly name: string;
  write(x: ProblemInput, signal?: AbortSignal): Promise<ProblemStatement>;
}

/** Code fragments of the bug (both sides), trimmed, long enough to mean something. */
export function bugFragments(patch: string, min = 12): string[] {
  const out = new Set<string>();
  for (const l of patch.split("\n")) {
    if (/^(\+\+\+|---) /.test(l) || !/^[+-]/.test(l)) continue;
    const t = l.slice(1).trim();
    if (t.length >= min) out.add(t);
  }
  return [...out];
}

/** Whether a text shows the bug: a changed line, or a changed file's path. */
export function revealsBug(text: string, x: Pick<ProblemInput, "bugPatch" | "files">): string | undefined {
  const frag = bugFragments(x.bugPatch).find((f) => text.includes(f));
  if (frag) return `quotes a changed line: ${frag.slice(0, 80)}`;
  const file = x.files.find((f) => text.includes(f));
  return file ? `names a changed file: ${file}` : undefined;
}

const MESSAGE =
  /(Error|error:|assert|Assert|expected|Expected|panicked|FAIL|mismatch|!=|should|Exception|\bgot\b)/;

/** Failure messages from the buggy runs' output: lines that say what went wrong, none that shows the bug. */
export function failureMessages(x: ProblemInput, max = 20): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const run of x.runs) {
    for (const raw of run.log_tail.split("\n")) {
      const line = raw.replace(/\x1b\[[0-9;]*m/g, "").trimEnd();
      const t = line.trim();
      if (!t || t.length > 300 || !MESSAGE.test(t) || seen.has(t)) continue;
      if (revealsBug(t, x) || /^(diff --git|index |@@|[+-]{3} )/.test(t) || t.includes(MARK_PREFIX)) continue;
      seen.add(t);
      out.push(line);
      if (out.length >= max) return out;
    }
  }
  return out;
}

export const templateWriter: ProblemWriter = {
  name: "template",
  async write(x) {
    const shown = x.failing.slice(0, 15);
    const more = x.failing.length > shown.length ? [`- … and ${x.failing.length - shown.length} more`] : [];
    const messages = failureMessages(x);
    const text = [
      `Some tests of ${x.repo} fail, and they should pass. Find the defect in the library code and fix it; the tests themselves are correct.`,
      "",
      "Failing tests:",
      "",
      ...shown.map((t) => `- \`${t}\``),
      ...more,
      ...(messages.length ? ["", "What the test run reports:", "", "```", ...messages, "```"] : []),
      "",
    ].join("\n");
    return { text, source: "template" };
  },
};

/** The model writes an issue as a user would; a reply that shows the bug falls back to the template. */
export function modelWriter(model: Model, fallback: ProblemWriter = templateWriter): ProblemWriter {
  return {
    name: `model:${model.name}`,
    async write(x, signal) {
      const reply = await model.complete(
        [
          {
            role: "system",
            content:
              "You write GitHub issues. Given failing tests and their messages, describe the misbehaviour a user of the library would notice, with a short example if one is clear from the tests. Do not guess at the cause, do not name files or lines of the library, do not propose a fix. Reply with the issue text only.",
          },
          {
            role: "user",
            content: `Repository: ${x.repo} (${x.language})\nFailing tests:\n${x.failing.slice(0, 20).join("\n")}\n\nTest output:\n${failureMessages(x, 40).join("\n")}`,
          },
        ],
        { signal, temperature: 0.3 },
      );
      const usage = { ...reply.usage, usd: reply.usd };
      const text = (reply.content ?? "").trim();
      if (!text || revealsBug(text, x)) return { ...(await fallback.write(x, signal)), usage };
      return { text: `${text}\n`, source: "model", usage };
    },
  };
}
