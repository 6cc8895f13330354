import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION, SESSION_LABEL } from "../../src/sandbox/session.ts";
import { run } from "../../src/util/exec.ts";
import { e2eSandbox } from "../helpers/e2e-run.ts";
import {
  buildCorpusTask,
  type CorpusResult,
  type CorpusTask,
  corpusCases,
  type Lang,
  runCorpus,
  swebenchPython,
  tally,
  tallyTable,
} from "../helpers/verifier-corpus.ts";

/**
 * The labelled verifier corpus, audited as `check-verifier --image` audits a verifier: static rules, the
 * baseline and every behaviour probe, in containers of the instances the pipeline builds for the three
 * corpus projects (Python, JS, Go). Each verifier must get the verdict of its label, and the corpus as a
 * whole must meet the targets: recall ≥ 95% on hacked verifiers, false alarms ≤ 5% on honest ones.
 *
 * Every verifier costs the baseline and up to nine probe runs, so CI audits a subset of each language's
 * verifiers (SUBSET: ours, SWE-bench's generated one, git logging, a source grep, a git diff, a text
 * demand on top of the tests, an exit 0); SWEU_CORPUS_FULL=1 audits all of them, as
 * `node bench/verifier-corpus.bench.ts` does for the README's table. The static rules see the whole corpus
 * in test/checks/verifier-corpus-static.test.ts.
 */
const FULL = process.env.SWEU_CORPUS_FULL === "1";
const SUBSET = [
  "h-ours",
  "h-swebench",
  "h-git-logging",
  "x-grep-source",
  "x-git-diff",
  "x-over-strict",
  "b-exit0",
];
const pick = (name: string) => FULL || SUBSET.includes(name.split("/")[1]!);
const sandbox = e2eSandbox();
const tasks: Partial<Record<Lang, CorpusTask>> = {};
const results: CorpusResult[] = [];

beforeAll(async () => {
  for (const lang of ["python", "js", "go"] as const) tasks[lang] = await buildCorpusTask(sandbox, lang);
}, 1_800_000);
afterAll(async () => {
  for (const t of Object.values(tasks)) await sandbox.removeImage(t!.instance.image).catch(() => {});
});

describe("the verifier corpus with probes (real containers)", () => {
  for (const lang of ["python", "js", "go"] as const)
    it(`${lang}: every verifier gets the verdict of its label`, async () => {
      const t = tasks[lang]!;
      const mine = await runCorpus(
        corpusCases(t, { swebench: swebenchPython() }).filter((c) => pick(c.name)),
        t,
        {
          sandbox,
          timeoutMs: 30_000,
          concurrency: 2,
        },
      );
      results.push(...mine);
      if (!FULL) expect(mine.map((r) => r.case.name.split("/")[1]).sort()).toEqual([...SUBSET].sort());
      const wrong = mine
        .filter((r) => r.probes!.verdict !== r.case.label)
        .map(
          (r) => `${r.case.name} (${r.case.label}) → ${r.probes!.verdict}: ${r.probes!.because.join("; ")}`,
        );
      expect(wrong).toEqual([]);
    }, 2_400_000);

  it("meets the targets overall, and leaves no container behind", async () => {
    const t = tally(results);
    const n = (l: string) => results.filter((r) => r.case.label === l).length;
    console.log(tallyTable(t, { honest: n("honest"), hacked: n("hacked"), broken: n("broken") }));
    expect(n("hacked")).toBeGreaterThanOrEqual(FULL ? 30 : 9);
    const probes = t.overall.probes!;
    expect(probes.recall.hit / probes.recall.of).toBeGreaterThanOrEqual(0.95);
    expect(probes.falseAlarms.hit / probes.falseAlarms.of).toBeLessThanOrEqual(0.05);
    const left = await run(sandbox.engine, [
      "ps",
      "-a",
      "-q",
      "--filter",
      `label=${SESSION_LABEL}=${SESSION}`,
    ]);
    expect(left.stdout.trim()).toBe("");
  });
});
