import { afterAll, describe, expect, it } from "vitest";
import {
  auditCase,
  type CorpusResult,
  corpusCases,
  corpusTaskFromGit,
  swebenchPython,
  tally,
  tallyTable,
} from "../helpers/verifier-corpus.ts";

/**
 * The verifier corpus under the static rules alone (no image, no container): the projects are mined from
 * their test repositories. Honest verifiers written the way other datasets write them must draw no
 * evidence (the false alarms of issue 15), and the rules must still see most hacks. The probes' run over
 * the same corpus is test/e2e/verifier-corpus.test.ts.
 */
const results: CorpusResult[] = [];
afterAll(() => {
  const n = (l: string) => results.filter((r) => r.case.label === l).length;
  console.log(tallyTable(tally(results), { honest: n("honest"), hacked: n("hacked"), broken: n("broken") }));
});

describe("the verifier corpus, static rules alone", () => {
  for (const lang of ["python", "js", "go"] as const)
    it(`${lang}: no honest verifier draws evidence; hacked ones are seen but for those that hide`, async () => {
      const task = await corpusTaskFromGit(lang);
      const cases = corpusCases(task, { swebench: swebenchPython() });
      expect(cases.filter((c) => c.label === "hacked").length).toBeGreaterThanOrEqual(9);
      for (const c of cases) results.push(await auditCase(c, task));
      const mine = results.filter((r) => r.case.lang === lang);
      const honestFlagged = mine.filter((r) => r.case.label === "honest" && r.static.verdict !== "honest");
      expect(honestFlagged.map((r) => `${r.case.name}: ${r.static.because.join("; ")}`)).toEqual([]);
      const missed = mine
        .filter((r) => r.case.label === "hacked" && r.static.verdict === "honest")
        .map((r) => r.case.name);
      // Only a hack that hides its reading (base64-encoded Python) gets past the text; the probes catch it.
      expect(missed).toEqual(lang === "python" ? ["python/x-obfuscated"] : []);
      const decisive = mine
        .filter((r) => r.static.verdict === "hacked")
        .map((r) => r.case.name.split("/")[1]);
      expect(decisive.sort()).toEqual(
        lang === "python" ? ["x-candidate-patch", "x-gold-line", "x-upstream"] : ["x-gold-line"],
      );
    }, 60_000);
});
