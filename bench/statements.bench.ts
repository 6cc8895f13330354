/**
 * Statements benchmark: mines local clones (git history: the PR's merge-commit title and body is the
 * statement) and measures the rule-based statement checks on every task, with no container and no model —
 * the leak check (the files the fix changes, identifiers it introduces, lines it adds, the tests the test
 * patch defines) and the statement gate (release titles, bare issue numbers, a few words), and the PR
 * quality filter's release rule.
 *
 *   node bench/statements.bench.ts <clone>... [--examples N] [--json]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixFacts, gateVerdict, leakFindings, RELEASE_TITLE } from "../src/checks/statement.ts";
import { GitSource } from "../src/mine/git-source.ts";
import { mine } from "../src/mine/mine.ts";
import { prTitle } from "../src/mine/quality.ts";
import { SqliteStore } from "../src/store/sqlite.ts";

interface RepoFigures {
  repo: string;
  tasks: number;
  gate: Record<string, number>;
  releasePr: number;
  leaking: number;
  leakKinds: Record<string, number>;
  statementChars: { median: number; min: number; max: number };
  examples: { id: string; statement: string; verdict: string; leaks: string[] }[];
}

const kindOf = (finding: string) =>
  finding.startsWith("names the file")
    ? "file"
    : finding.startsWith("names `")
      ? "identifier"
      : finding.startsWith("quotes a line")
        ? "added line"
        : "test name";

const gateKind = (v: string) =>
  v === "ok"
    ? "ok"
    : v.startsWith("a release")
      ? "release title"
      : v.startsWith("only an issue")
        ? "issue reference"
        : v === "empty"
          ? "empty"
          : "few words";

export async function measure(clone: string, examples = 3): Promise<RepoFigures> {
  const dir = mkdtempSync(join(tmpdir(), "sweu-stmt-bench-"));
  const store = new SqliteStore(join(dir, "store.sqlite"));
  const source = await GitSource.open(clone);
  try {
    // The quality filter is off here: its release rule is counted below, on every task.
    await mine(source, store, { quality: false });
    const tasks = store.listTasks().filter((t) => store.outcome(t.instance_id) === "task");
    const f: RepoFigures = {
      repo: source.repo,
      tasks: tasks.length,
      gate: {},
      releasePr: 0,
      leaking: 0,
      leakKinds: {},
      statementChars: { median: 0, min: 0, max: 0 },
      examples: [],
    };
    const lengths: number[] = [];
    for (const t of tasks) {
      const verdict = gateVerdict(t.problem_statement);
      f.gate[gateKind(verdict)] = (f.gate[gateKind(verdict)] ?? 0) + 1;
      if (RELEASE_TITLE.test(prTitle(t))) f.releasePr++;
      const leaks = leakFindings(t.problem_statement, fixFacts(t));
      if (leaks.length) f.leaking++;
      for (const k of new Set(leaks.map(kindOf))) f.leakKinds[k] = (f.leakKinds[k] ?? 0) + 1;
      lengths.push(t.problem_statement.length);
      if ((verdict !== "ok" || leaks.length) && f.examples.length < examples)
        f.examples.push({ id: t.instance_id, statement: t.problem_statement.slice(0, 160), verdict, leaks });
    }
    lengths.sort((a, b) => a - b);
    f.statementChars = {
      median: lengths[Math.floor(lengths.length / 2)] ?? 0,
      min: lengths[0] ?? 0,
      max: lengths.at(-1) ?? 0,
    };
    return f;
  } finally {
    store.close();
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const ex = args.indexOf("--examples");
  const examples = ex >= 0 ? Number(args[ex + 1]) : 3;
  const clones = args.filter((a, i) => !a.startsWith("--") && (ex < 0 || i !== ex + 1));
  const all: RepoFigures[] = [];
  for (const c of clones) all.push(await measure(c, examples));
  if (json) process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
  else {
    console.log(
      "| repository | tasks | gate: ok / release / few words / issue ref | release PRs | leaking (file, identifier, added line, test) | statement chars (median) |",
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const f of all) {
      const g = (k: string) => f.gate[k] ?? 0;
      const l = (k: string) => f.leakKinds[k] ?? 0;
      console.log(
        `| ${f.repo} | ${f.tasks} | ${g("ok")} / ${g("release title")} / ${g("few words")} / ${g("issue reference")} | ${f.releasePr} | ${f.leaking} (${l("file")}, ${l("identifier")}, ${l("added line")}, ${l("test name")}) | ${f.statementChars.median} |`,
      );
    }
    for (const f of all)
      for (const e of f.examples)
        console.log(
          `\n${e.id}: ${JSON.stringify(e.statement)}\n  gate: ${e.verdict}\n  leaks: ${e.leaks.join("; ") || "none"}`,
        );
  }
}
