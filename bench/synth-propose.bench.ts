/**
 * How many bugs the strategies propose in a real clone, and how fast (no container runs):
 *   node bench/synth-propose.bench.ts <clone> [language] [per-strategy]
 * Parses every code file of the language at HEAD with its tree-sitter grammar, reads the last 40 commits
 * for history reversion and hunk removal, and prints per strategy the proposals and how many parse.
 */
import { execFileSync } from "node:child_process";
import { classifyPath, languageOf } from "../src/mine/classify.ts";
import { recentChanges } from "../src/synth/history.ts";
import { langKeyFor, parsesCleanly } from "../src/synth/lang.ts";
import { applyEdits, freeTrees, functionsOf, type SourceFile, sourceFile } from "../src/synth/source.ts";
import { STRATEGIES, seeded } from "../src/synth/strategies.ts";

const [dir, language, per] = process.argv.slice(2);
if (!dir) throw new Error("usage: node bench/synth-propose.bench.ts <clone> [language] [per-strategy]");
const git = (...a: string[]) =>
  execFileSync("git", ["-C", dir, ...a], { encoding: "utf8", maxBuffer: 1 << 28 });
const head = git("rev-parse", "HEAD").trim();
const family = (l: string | undefined) => (l === "typescript" ? "javascript" : l);
const paths = git("ls-files")
  .split("\n")
  .filter((f) => f && classifyPath(f) === "code" && langKeyFor(f))
  .filter((f) => !language || family(languageOf(f)) === family(language));
const t0 = performance.now();
const files: SourceFile[] = [];
for (const p of paths) {
  const f = await sourceFile(p, git("show", `${head}:${p}`));
  if (f) files.push(f);
}
const t1 = performance.now();
const functions = files.flatMap(functionsOf);
const recent = await recentChanges(dir, head, files);
const t2 = performance.now();
const rows: string[] = [];
for (const [name, s] of Object.entries(STRATEGIES)) {
  if (s.needs === "model") continue;
  const ms = await s.propose({
    functions,
    recent,
    usage: { prompt_tokens: 0, completion_tokens: 0, usd: 0 },
    rng: seeded(`bench:${name}`),
    limit: Number(per ?? 20),
  });
  let ok = 0;
  for (const m of ms) {
    const c = m.changes[0]!;
    const f = files.find((x) => x.path === c.path)!;
    if (await parsesCleanly(c.path, applyEdits(f.text, c.edits))) ok++;
  }
  rows.push(`| ${name} | ${ms.length} | ${ok} |`);
}
console.log(
  `${dir}: ${files.length}/${paths.length} code files parsed, ${functions.length} functions, ${recent.length} recent function changes; ` +
    `parse ${((t1 - t0) / 1000).toFixed(1)} s, history ${((t2 - t1) / 1000).toFixed(1)} s`,
);
console.log("| strategy | proposed | parse after the change |\n| --- | --- | --- |");
console.log(rows.join("\n"));
freeTrees(files);
