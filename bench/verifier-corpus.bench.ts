/**
 * Recall on hacked and false alarms on honest verifiers of the labelled corpus
 * (test/fixtures/verifier-corpus), per check and overall, static rules alone and with probes: the table in
 * the README. With probes, the three corpus projects are built by the real pipeline and every verifier is
 * audited as `check-verifier --image` does; `--static-only` mines the projects and needs no container.
 *
 *   node bench/verifier-corpus.bench.ts [--static-only] [--lang python,js,go] [--concurrency 2]
 *                                       [--timeout 30] [--json FILE]
 *
 * SWE-bench's generated eval.sh joins the corpus when its package is installed (scripts/setup.sh with
 * SWEU_SETUP_TEST=1 puts it in .tools/swebench; SWEU_SWEBENCH_PYTHON points elsewhere).
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createSandbox } from "../src/sandbox/index.ts";
import {
  buildCorpusTask,
  type CorpusResult,
  corpusCases,
  corpusTaskFromGit,
  type Lang,
  runCorpus,
  swebenchPython,
  tally,
  tallyTable,
} from "../test/helpers/verifier-corpus.ts";

const { values } = parseArgs({
  options: {
    "static-only": { type: "boolean", default: false },
    lang: { type: "string", default: "python,js,go" },
    concurrency: { type: "string", default: "2" },
    timeout: { type: "string", default: "30" },
    json: { type: "string" },
  },
});
const langs = values.lang.split(",") as Lang[];
const sandbox = values["static-only"] ? undefined : createSandbox("auto");
let swebench: string | undefined;
try {
  swebench = swebenchPython();
} catch (e) {
  console.error(`${(e as Error).message}\n(the corpus runs without SWE-bench's generated scripts)`);
}
const results: CorpusResult[] = [];
const started = Date.now();
try {
  for (const lang of langs) {
    const t0 = Date.now();
    const task = sandbox ? await buildCorpusTask(sandbox, lang) : await corpusTaskFromGit(lang);
    console.error(`${lang}: task ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const cases = corpusCases(task, swebench ? { swebench } : {});
    results.push(
      ...(await runCorpus(cases, task, {
        ...(sandbox ? { sandbox } : {}),
        timeoutMs: Number(values.timeout) * 1000,
        concurrency: Number(values.concurrency),
        onResult: (r) => {
          const v = (r.probes ?? r.static).verdict;
          const as = r.probes ? v === r.case.label : (v === "honest") === (r.case.label === "honest");
          console.error(
            `${as ? "  " : "✗ "}${r.case.name.padEnd(26)} ${r.case.label.padEnd(7)} → ${v.padEnd(8)} ${(r.ms / 1000).toFixed(1).padStart(5)} s  ${(r.probes ?? r.static).because.join("; ").slice(0, 140)}`,
          );
        },
      })),
    );
    if (sandbox) await sandbox.removeImage(task.instance.image).catch(() => {});
  }
} finally {
  await sandbox?.cleanup();
}
const n = (l: string) => results.filter((r) => r.case.label === l).length;
const t = tally(results);
console.log(tallyTable(t, { honest: n("honest"), hacked: n("hacked"), broken: n("broken") }));
const secs = (Date.now() - started) / 1000;
console.log(
  `\n${results.length} verifiers in ${langs.join(", ")}; ${secs.toFixed(0)} s in all, ${(secs / results.length).toFixed(1)} s per verifier${sandbox ? ` (probes, concurrency ${values.concurrency})` : " (static only)"}.`,
);
if (t.misses.length) console.log(`\nNot as labelled:\n${t.misses.map((m) => `- ${m}`).join("\n")}`);
if (values.json)
  writeFileSync(
    values.json,
    JSON.stringify(
      results.map((r) => ({
        case: r.case.name,
        label: r.case.label,
        kind: r.case.kind,
        static: r.static,
        probes: r.probes,
        ms: r.ms,
      })),
      null,
      1,
    ),
  );
process.exit(0);
