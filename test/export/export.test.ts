import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderFunnelSummary } from "../../src/export/funnel.ts";
import { writeHarborTask } from "../../src/export/harbor.ts";
import { DATASET_COLUMNS, exportRun, rowToInstance } from "../../src/export/index.ts";
import type { Instance } from "../../src/records/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { makeCandidate, makeEnvironment, makeInstance, makeRejection, makeTask } from "./fixtures.ts";

let root: string;
let store: SqliteStore;
let out: string;
let inst1: Instance;
let inst2: Instance;

async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: await asyncBufferFromFile(path) });
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sweu-export-"));
  store = new SqliteStore(join(root, "store.sqlite"));
  for (let n = 1; n <= 6; n++) store.putCandidate(makeCandidate(n));
  store.putTask(makeTask(1));
  store.putTask(makeTask(2));
  store.putTask(makeTask(3));
  store.putTask(makeTask(4, "go"));
  inst1 = makeInstance({
    instance_id: "acme__widgets-1",
    problem_statement_source: "issue",
    cost: { ...makeInstance({ instance_id: "x" }).cost, wall_ms: 30_000 },
  });
  inst2 = makeInstance({
    instance_id: "acme__widgets-2",
    image: "sweu/acme__widgets:env2",
    environment_key: "env2",
    hints_text: "line1\nline2",
    cost: { ...inst1.cost, wall_ms: 50_000 },
  });
  store.putInstance(inst1);
  store.putInstance(inst2);
  store.putRejection(makeRejection(3, "validate", "buggy_passes"));
  store.putRejection(makeRejection(4, "build", "install_failed"));
  store.putRejection(makeRejection(5, "split", "no_test_change"));
  store.putRejection(makeRejection(6, "split", "no_test_change"));
  store.putEnvironment(makeEnvironment("env1", inst1.image, 1000));
  store.putEnvironment(makeEnvironment("env2", inst2.image));
  out = join(root, "out");
});

afterAll(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe("exportRun", () => {
  it("writes one folder per instance with the task files and per-run validation logs", () => {
    const res = exportRun(store, out);
    expect(res.instances).toBe(2);
    const dir = join(out, "instances", inst1.instance_id);
    expect(readdirSync(dir).sort()).toEqual(
      [
        "Dockerfile",
        "eval_script.sh",
        "evaluation.sh",
        "gold.patch",
        "problem_statement.md",
        "task.json",
        "test.patch",
        "validation",
      ].sort(),
    );
    expect(JSON.parse(readFileSync(join(dir, "task.json"), "utf8"))).toEqual(inst1);
    expect(readFileSync(join(dir, "gold.patch"), "utf8")).toBe(inst1.patch);
    expect(readFileSync(join(dir, "test.patch"), "utf8")).toBe(inst1.test_patch);
    expect(readFileSync(join(dir, "evaluation.sh"), "utf8")).toBe(inst1.evaluation_script);
    expect(statSync(join(dir, "evaluation.sh")).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir, "problem_statement.md"), "utf8")).toBe(`${inst1.problem_statement}\n`);
    expect(readFileSync(join(dir, "Dockerfile"), "utf8")).toBe(`${inst1.dockerfile}\n`);
    expect(readdirSync(join(dir, "validation")).sort()).toEqual([
      "buggy-1.log",
      "buggy-2.log",
      "resolved-1.log",
      "resolved-2.log",
    ]);
    const b2 = readFileSync(join(dir, "validation", "buggy-2.log"), "utf8");
    expect(b2).toContain("state=buggy exit_code=1");
    expect(b2).toContain("FAILED 2");
    expect(readFileSync(join(dir, "validation", "resolved-1.log"), "utf8")).toContain("ok 1");
  });

  it("writes dataset.jsonl with SWE-bench fields, list fields as JSON strings, and rows that read back", () => {
    const rows = readJsonl(join(out, "dataset.jsonl"));
    expect(rows.map((r) => r.instance_id)).toEqual([inst1.instance_id, inst2.instance_id]);
    const r = rows[0]!;
    expect(Object.keys(r)).toEqual(DATASET_COLUMNS.map(([n]) => n));
    expect(typeof r.FAIL_TO_PASS).toBe("string");
    expect(JSON.parse(r.FAIL_TO_PASS as string)).toEqual(inst1.FAIL_TO_PASS);
    expect(JSON.parse(r.PASS_TO_PASS as string)).toEqual(inst1.PASS_TO_PASS);
    expect(typeof r.validation).toBe("string");
    for (const v of Object.values(r)) expect(typeof v).toBe("string");
    // Optional fields: the value when set, "" when not, and "" reads back as unset.
    expect(r.problem_statement_source).toBe("issue");
    expect(rows[1]!.problem_statement_source).toBe("");
    expect(rows[1]!.generated_test_patch).toBe("");
    expect(rowToInstance(r)).toEqual(inst1);
    expect(rowToInstance(rows[1])).toEqual(inst2);
  });

  it("writes dataset.parquet with the same columns and rows as dataset.jsonl", async () => {
    const pq = await readParquet(join(out, "dataset.parquet"));
    const jl = readJsonl(join(out, "dataset.jsonl"));
    expect(pq.length).toBe(2);
    expect(Object.keys(pq[0]!)).toEqual(DATASET_COLUMNS.map(([n]) => n));
    expect(pq).toEqual(jl);
  });

  it("writes the funnel report", () => {
    const f = JSON.parse(readFileSync(join(out, "funnel.json"), "utf8"));
    expect(f.candidates).toBe(6);
    expect(f.tasks).toBe(4);
    expect(f.instances).toBe(2);
    expect(f.yield).toBe(0.5);
    expect(f.pending).toBe(0);
    expect(f.rejected).toBe(4);
    expect(f.rejections_by_stage).toEqual([
      { stage: "split", count: 2 },
      { stage: "build", count: 1 },
      { stage: "validate", count: 1 },
    ]);
    expect(f.rejections).toContainEqual({ stage: "split", reason: "no_test_change", count: 2 });
    expect(f.languages).toContainEqual({ language: "python", tasks: 3, instances: 2, yield: 0.6667 });
    expect(f.languages).toContainEqual({ language: "go", tasks: 1, instances: 0, yield: 0 });
    expect(f.wall_ms).toEqual({ instances_with_cost: 2, median: 40_000, total: 80_000 });
    expect(f.images).toEqual({ distinct: 2, with_size: 1, median_bytes: 1000, total_bytes: 1000 });
    const md = readFileSync(join(out, "funnel.md"), "utf8");
    expect(md).toContain("| candidates | 6 |");
    expect(md).toContain("| split | no_test_change | 2 |");
    expect(md).toContain("Yield (instances / tasks built): 50.0%");
    expect(md).toContain("Median wall time per instance: 40.0 s");
    // What `run` prints at its end.
    expect(renderFunnelSummary(f).split("\n")).toEqual([
      "per instance: median wall 40.0 s, median image 1000 B (2 distinct images, 1000 B in all)",
      "rejected most for: split:no_test_change 2, build:install_failed 1, validate:buggy_passes 1",
    ]);
  });

  it("is idempotent: a rerun keeps trajectories, retires stale folders and leaves no temp files", async () => {
    const dir1 = join(out, "instances", inst1.instance_id);
    writeFileSync(join(dir1, "trajectory.jsonl"), '{"step":1}\n');
    writeFileSync(join(dir1, "gold.patch"), "tampered");
    const stale = join(out, "instances", "acme__widgets-99");
    mkdirSync(join(stale, "validation"), { recursive: true });
    writeFileSync(join(stale, "task.json"), "{}");
    writeFileSync(join(stale, "trajectory.jsonl"), '{"step":9}\n');
    const staleEmpty = join(out, "instances", "acme__widgets-98");
    mkdirSync(staleEmpty);
    writeFileSync(join(staleEmpty, "task.json"), "{}");
    const foreign = join(out, "instances", "notes");
    mkdirSync(foreign);

    const before = readFileSync(join(out, "dataset.jsonl"), "utf8");
    const res = exportRun(store, out);
    expect(res.retired.sort()).toEqual(["acme__widgets-98", "acme__widgets-99"]);
    expect(readFileSync(join(out, "dataset.jsonl"), "utf8")).toBe(before);
    expect(readFileSync(join(dir1, "trajectory.jsonl"), "utf8")).toBe('{"step":1}\n');
    expect(readFileSync(join(dir1, "gold.patch"), "utf8")).toBe(inst1.patch);
    expect(readdirSync(stale)).toEqual(["trajectory.jsonl"]);
    expect(existsSync(staleEmpty)).toBe(false);
    expect(existsSync(foreign)).toBe(true);
    const leftovers = [...readdirSync(out), ...readdirSync(join(out, "instances"))].filter((n) =>
      n.startsWith("."),
    );
    expect(leftovers).toEqual([]);
    expect((await readParquet(join(out, "dataset.parquet"))).length).toBe(2);
    // A third export finds every folder as it should be and rewrites none of them.
    const dir2 = join(out, "instances", inst2.instance_id);
    const stamp = (d: string) => statSync(join(d, "task.json")).ino;
    const inodes = [stamp(dir1), stamp(dir2)];
    exportRun(store, out);
    expect([stamp(dir1), stamp(dir2)]).toEqual(inodes);
  });

  it("keeps every instance folder inside --out, whatever id a store holds (a merged store comes from anywhere)", async () => {
    const r = join(root, "escape");
    const s = new SqliteStore(join(r, "store.sqlite"));
    try {
      s.putInstance(makeInstance({ instance_id: "../../../escaped-export" }));
      const out = join(r, "a", "b", "out");
      const res = exportRun(s, out);
      expect(res.instances).toBe(1);
      // Joined as it is, the id would land at r/a/escaped-export.
      expect(existsSync(join(r, "a", "escaped-export"))).toBe(false);
      expect(readdirSync(join(out, "instances"))).toHaveLength(1);
      const [name] = readdirSync(join(out, "instances"));
      expect(name).toMatch(/^[_.]+escaped-export-[0-9a-f]{12}$/);
      // The row keeps the id as the store has it; only the folder's name is made safe.
      expect(readJsonl(res.files.jsonl)[0]!.instance_id).toBe("../../../escaped-export");
      const harbor = await writeHarborTask(join(r, "harbor"), s.listInstances()[0]!);
      expect(harbor.dir.startsWith(join(r, "harbor"))).toBe(true);
    } finally {
      s.close();
    }
  });

  it("exports an empty store to empty but readable files", async () => {
    const emptyRoot = join(root, "empty");
    const s = new SqliteStore(join(emptyRoot, "store.sqlite"));
    try {
      const res = exportRun(s, join(emptyRoot, "out"));
      expect(res.instances).toBe(0);
      expect(readFileSync(res.files.jsonl, "utf8")).toBe("");
      expect(await readParquet(res.files.parquet)).toEqual([]);
      expect(res.funnel.yield).toBeNull();
      expect(readFileSync(res.files.funnelMd, "utf8")).toContain("Yield (instances / tasks built): n/a");
    } finally {
      s.close();
    }
  });

  it("rejects unusable dataset rows with a message naming the field", () => {
    expect(() => rowToInstance({ instance_id: "x" }, "line 3")).toThrow(
      /line 3: missing field 'base_commit'/,
    );
    const row = JSON.parse(readFileSync(join(out, "dataset.jsonl"), "utf8").split("\n")[0]!);
    delete row.image;
    expect(() => rowToInstance(row)).toThrow(/missing field 'image'.*swe-universe dataset row/);
    expect(() => rowToInstance({ ...row, image: "i", FAIL_TO_PASS: "[not json" })).toThrow(/FAIL_TO_PASS/);
    expect(() => rowToInstance([1, 2])).toThrow(/expected a JSON object/);
  });
});

function hasPyarrow(): boolean {
  try {
    execFileSync("python3", ["-c", "import pyarrow"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!hasPyarrow())("pyarrow (optional, when installed)", () => {
  it("reads dataset.parquet with the same rows", () => {
    const res = exportRun(store, out);
    const script =
      "import json,sys,pyarrow.parquet as pq; print(json.dumps(pq.read_table(sys.argv[1]).to_pylist()))";
    const rows = JSON.parse(execFileSync("python3", ["-c", script, res.files.parquet], { encoding: "utf8" }));
    expect(rows).toEqual(readJsonl(res.files.jsonl));
  });
});
