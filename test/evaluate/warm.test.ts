/**
 * evaluate's start-up off the critical path (src/sandbox/warm.ts through evaluatePredictions), on the
 * scripted sandbox (no container): while a prediction runs, the next one's container is already started;
 * every container is removed by the time evaluatePredictions returns; the reports are what they are without
 * it (gold resolves, an empty patch does not).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluatePredictions } from "../../src/evaluate/evaluate.ts";
import type { Instance } from "../../src/records/index.ts";
import { ScriptedSandbox } from "../helpers/scripted-sandbox.ts";

const gold = "diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n";
const inst = (id: string) =>
  ({
    instance_id: id,
    image: `img-${id}`,
    patch: gold,
    test_patch: "",
    evaluation_script: "#!/bin/bash\n",
    parser: "tap",
    FAIL_TO_PASS: ["test_new"],
    PASS_TO_PASS: [],
  }) as unknown as Instance;

describe("evaluate with containers started ahead", () => {
  for (const workers of [1, 2]) {
    it(`starts the next prediction's container while one runs (--workers ${workers})`, async () => {
      const sb = new ScriptedSandbox({
        tests: (r) =>
          r.kind === "resolved"
            ? { exit: 0, lines: ["ok test_new"] }
            : { exit: 1, lines: ["not ok test_new"] },
        ms: 40,
      });
      const dataset = ["a", "b", "c"].map(inst);
      const preds = dataset.flatMap((i) => [
        { instance_id: i.instance_id, model_name_or_path: "gold", model_patch: i.patch },
        { instance_id: i.instance_id, model_name_or_path: "empty", model_patch: "" },
      ]);
      const out = mkdtempSync(join(tmpdir(), "sweu-warm-"));
      const run = await evaluatePredictions(dataset, preds, out, "t", { sandbox: sb, workers });
      expect(run.results.map((r) => [r.instance_id, r.model, r.report.resolved])).toEqual([
        ["a", "empty", false],
        ["a", "gold", true],
        ["b", "empty", false],
        ["b", "gold", true],
        ["c", "empty", false],
        ["c", "gold", true],
      ]);
      expect(sb.started).toBe(6);
      expect(sb.live).toBe(0);
      // Each test run but the first and the last `workers` found the next container already started beside it.
      expect(sb.runs.slice(1, -workers).every((r) => r.live > workers)).toBe(true);
    });
  }
});
