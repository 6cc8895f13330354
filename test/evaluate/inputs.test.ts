import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputError, loadDataset, loadPredictions } from "../../src/evaluate/inputs.ts";
import { runReport } from "../../src/evaluate/report.ts";
import { instanceToRow } from "../../src/export/dataset.ts";
import { makeInstance } from "../export/fixtures.ts";

let root: string;
const a = makeInstance({ instance_id: "acme__widgets-1" });
const b = makeInstance({ instance_id: "acme__widgets-2", patch: "gold-b" });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sweu-eval-inputs-"));
  mkdirSync(join(root, "export"));
  writeFileSync(
    join(root, "export", "dataset.jsonl"),
    [a, b].map((i) => JSON.stringify(instanceToRow(i))).join("\n"),
  );
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

describe("loadDataset", () => {
  it("reads an export folder or a JSON list, back into Instance records", () => {
    expect(loadDataset(join(root, "export"))).toEqual([a, b]);
    expect(loadDataset(file("list.json", JSON.stringify([instanceToRow(b)])))).toEqual([b]);
  });

  it("names the file and line of a bad row, and refuses duplicates", () => {
    expect(() => loadDataset(file("bad.jsonl", `${JSON.stringify(instanceToRow(a))}\n{oops\n`))).toThrow(
      /bad\.jsonl:2: not valid JSON/,
    );
    const row = JSON.stringify(instanceToRow(a));
    expect(() => loadDataset(file("dup.jsonl", `${row}\n${row}\n`))).toThrow(/duplicate instance_id/);
    expect(() => loadDataset(join(root, "missing"))).toThrow(InputError);
    expect(() => loadDataset(root)).toThrow(/no dataset\.jsonl/);
  });
});

describe("loadPredictions", () => {
  it("makes gold and empty predictions from the dataset", () => {
    expect(loadPredictions("gold", [a, b]).map((p) => p.model_patch)).toEqual([a.patch, "gold-b"]);
    expect(loadPredictions("empty", [a, b])).toEqual([
      { instance_id: a.instance_id, model_name_or_path: "empty", model_patch: "" },
      { instance_id: b.instance_id, model_name_or_path: "empty", model_patch: "" },
    ]);
  });

  it("reads JSON lines and JSON lists; model_patch may be null", () => {
    const p = { instance_id: "x", model_name_or_path: "m", model_patch: null };
    expect(loadPredictions(file("p.jsonl", `${JSON.stringify(p)}\n\n`), [])).toEqual([p]);
    expect(loadPredictions(file("p.json", JSON.stringify([p])), [])).toEqual([p]);
  });

  it("rejects malformed predictions with the entry named", () => {
    expect(() => loadPredictions(file("q.jsonl", '{"instance_id":"x","model_patch":""}\n'), [])).toThrow(
      /q\.jsonl:1: invalid prediction: 'model_name_or_path'/,
    );
    const p = JSON.stringify({ instance_id: "x", model_name_or_path: "m", model_patch: "" });
    expect(() => loadPredictions(file("r.jsonl", `${p}\n${p}\n`), [])).toThrow(
      /r\.jsonl:2: duplicate prediction/,
    );
    expect(() => loadPredictions(join(root, "nope"), [])).toThrow(/expected a file, "gold" or "empty"/);
  });
});

describe("runReport", () => {
  it("counts an error as neither resolved nor unresolved, and lists instances without a prediction", () => {
    const r = runReport({
      runId: "r",
      model: "m",
      datasetIds: ["a", "b", "c"],
      results: [
        {
          instance_id: "a",
          model: "m",
          patch: "p",
          output: "",
          report: {
            patch_is_None: false,
            patch_exists: true,
            patch_successfully_applied: false,
            resolved: false,
            tests_status: {
              FAIL_TO_PASS: { success: [], failure: [] },
              PASS_TO_PASS: { success: [], failure: [] },
              FAIL_TO_FAIL: { success: [], failure: [] },
              PASS_TO_FAIL: { success: [], failure: [] },
            },
            sweu: {
              status: "error",
              exit_code: null,
              timed_out: false,
              duration_ms: 0,
              parsed: false,
              reasons: ["x"],
            },
          },
        },
      ],
    });
    expect(r).toMatchObject({
      total_instances: 3,
      submitted_instances: 1,
      completed_instances: 0,
      error_instances: 1,
      error_ids: ["a"],
      incomplete_ids: ["b", "c"],
      resolved_instances: 0,
      unresolved_instances: 0,
    });
  });
});
