import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { instanceToRow } from "../../src/export/dataset.ts";
import { writeHfDataset } from "../../src/export/hf.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { consumerPython } from "../helpers/consumers.ts";
import { spawnCli } from "../queue/cli.ts";
import { standInRun } from "../universe/helpers.ts";

function python(code: string): string {
  const r = spawnSync(consumerPython(), ["-c", code], { encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe("one dataset for a run over many repositories", () => {
  it("Hugging Face layout: shards under data/, a card with configs and column meanings, JSONL beside; datasets loads the folder", async () => {
    const runDir = await standInRun({ "acme/calc": 5, "other/tool": 3 });
    expect(readdirSync(join(runDir, "data"))).toEqual(["train-00000-of-00001.parquet"]);
    const card = readFileSync(join(runDir, "README.md"), "utf8");
    expect(card).toMatch(
      /^---\n[\s\S]*configs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: data\/train-\*\.parquet/,
    );
    expect(card).toMatch(/num_examples: 5\n/);
    expect(card).toContain("| `FAIL_TO_PASS` | JSON list of test names");
    expect(card).toContain("5 instances from 2 repositories");
    expect(existsSync(join(runDir, "dataset.parquet"))).toBe(false);
    const out = python(
      `import datasets, json\n` +
        `ds = datasets.load_dataset(${JSON.stringify(runDir)}, split="train")\n` +
        `js = datasets.load_dataset("json", data_files=${JSON.stringify(join(runDir, "dataset.jsonl"))}, split="train")\n` +
        `print(json.dumps({"rows": len(ds), "jsonl": len(js), "repos": sorted(set(ds["repo"])), "f2p": json.loads(ds[0]["FAIL_TO_PASS"]), "cols": ds.column_names == js.column_names}))`,
    );
    expect(JSON.parse(out)).toEqual({
      rows: 5,
      jsonl: 5,
      repos: ["acme/calc", "other/tool"],
      f2p: ["test_m.py::test_x"],
      cols: true,
    });
    // Shards by size: a small budget makes several, each a complete Parquet file; stale shards go.
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    const rows = store.listInstances().map(instanceToRow);
    store.close();
    writeHfDataset(runDir, rows, { shardRows: 2 });
    expect(readdirSync(join(runDir, "data"))).toEqual([
      "train-00000-of-00003.parquet",
      "train-00001-of-00003.parquet",
      "train-00002-of-00003.parquet",
    ]);
    expect(
      python(`import datasets\nprint(len(datasets.load_dataset(${JSON.stringify(runDir)}, split="train")))`),
    ).toBe("5");
  }, 300_000);

  it("one funnel across repositories: per repository, per language, inputs; funnel.md, funnel.json and report.html beside", async () => {
    const runDir = await standInRun({ "acme/calc": 4, "other/tool": 2 });
    const f = JSON.parse(readFileSync(join(runDir, "funnel.json"), "utf8"));
    expect(
      f.repositories.map((r: { repo: string; built: number; instances: number }) => [
        r.repo,
        r.built,
        r.instances,
      ]),
    ).toEqual([
      ["acme/calc", 4, 2],
      ["other/tool", 2, 1],
    ]);
    expect(f.by_language).toEqual([{ language: "python", tasks: 6, built: 6, instances: 3, yield: 0.5 }]);
    expect(f.inputs.by_kind).toEqual({ duplicate: 1 });
    expect(f.distributions.wall_s).toHaveLength(3);
    const md = readFileSync(join(runDir, "funnel.md"), "utf8");
    expect(md).toMatch(
      /## Repositories[\s\S]*\| acme\/calc \| python \| done \| 4 \| 4 \| 4 \| 2 \| 50\.0% \| 0 \|/,
    );
    expect(md).toMatch(/\| l:9 \| acme\/calc \| duplicate \|/);
    const html = readFileSync(join(runDir, "report.html"), "utf8");
    expect(html).toMatch(/<canvas id="repository">/);
    expect(html).toContain("Chart.js v4");
    // `export` (as `build --only` and `synth` after it) in the universe run's folder keeps its layout.
    const e = spawnCli(["export", "--run-dir", runDir]);
    expect(await e.exited, e.err()).toBe(0);
    expect(readFileSync(join(runDir, "funnel.md"), "utf8")).toContain("## Repositories");
    expect(existsSync(join(runDir, "dataset.parquet"))).toBe(false);
    expect(readdirSync(join(runDir, "data"))).toEqual(["train-00000-of-00001.parquet"]);
  }, 120_000);

  it("merge: run folders into one dataset and one funnel; the same folder twice adds nothing; an instance beats a rejection", async () => {
    const a = await standInRun({ "acme/calc": 3 });
    const b = await standInRun({ "other/tool": 2 });
    // Folder c ended acme__calc-1 (an instance in a) as a rejection: named, the instance kept.
    const c = mkdtempSync(join(tmpdir(), "sweu-uexp-c-"));
    const sa = new SqliteStore(join(a, "store.sqlite"));
    const sc = new SqliteStore(join(c, "store.sqlite"));
    const inst = sa.getInstance("acme__calc-1")!;
    sc.putCandidate(sa.getCandidate("acme__calc-1")!);
    sc.putTask(sa.getTask("acme__calc-1")!);
    sc.putRejection({
      id: inst.instance_id,
      repo: inst.repo,
      number: 1,
      stage: "validate",
      reason: "inconsistent_exit",
      detail: "",
      at: new Date().toISOString(),
    });
    sa.close();
    sc.close();
    const out = mkdtempSync(join(tmpdir(), "sweu-merged-"));
    const m = spawnCli(["merge", a, b, c, a, "--out", out, "--json"]);
    expect(await m.exited, m.err()).toBe(0);
    const r = JSON.parse(m.out());
    expect(r).toMatchObject({ folders: 4, instances: 3 });
    expect(r.conflicts).toEqual([
      { id: "acme__calc-1", kept: "instance", dropped: `rejection inconsistent_exit (${c})` },
    ]);
    const f = JSON.parse(readFileSync(join(out, "funnel.json"), "utf8"));
    expect(f.repositories.map((x: { repo: string }) => x.repo)).toEqual(["acme/calc", "other/tool"]);
    expect(f.candidates).toBe(5);
    expect(readFileSync(join(out, "dataset.jsonl"), "utf8").trim().split("\n")).toHaveLength(3);
    expect(existsSync(join(out, "data", "train-00000-of-00001.parquet"))).toBe(true);
  }, 120_000);
});
