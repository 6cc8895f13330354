import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storePath } from "../../src/export/run-dir.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { makeCandidate, makeInstance, makeRejection, makeTask } from "./fixtures.ts";

let root: string;
let runDir: string;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ["src/cli/main.ts", ...args], { encoding: "utf8" });
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "sweu-export-cli-"));
  runDir = join(root, "run");
  const store = new SqliteStore(storePath(runDir));
  store.putCandidate(makeCandidate(1));
  store.putCandidate(makeCandidate(2));
  store.putTask(makeTask(1));
  store.putInstance(makeInstance({ instance_id: "acme__widgets-1" }));
  store.putRejection(makeRejection(2, "split", "no_code_change"));
  store.close();
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("export and report verbs", () => {
  it("export writes the dataset into --out and reports as JSON", () => {
    const out = join(root, "out");
    const r = cli("export", "--run-dir", runDir, "--out", out, "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.instances).toBe(1);
    expect(res.funnel).toMatchObject({ candidates: 2, tasks: 1, instances: 1, rejected: 1 });
    expect(readFileSync(join(out, "dataset.jsonl"), "utf8").trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(out, "instances", "acme__widgets-1", "task.json"))).toBe(true);
  });

  it("export defaults --out to the run folder", () => {
    const r = cli("export", "--run-dir", runDir);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("exported 1 instances");
    expect(existsSync(join(runDir, "dataset.parquet"))).toBe(true);
  });

  it("report prints the funnel as markdown or JSON", () => {
    const md = cli("report", "--run-dir", runDir);
    expect(md.status).toBe(0);
    expect(md.stdout).toContain("| split | no_code_change | 1 |");
    const js = cli("report", "--run-dir", runDir, "--json");
    expect(JSON.parse(js.stdout)).toMatchObject({ candidates: 2, yield: 1 });
  });

  it("says plainly when the run folder has no store (exit 3)", () => {
    for (const verb of ["export", "report"]) {
      const r = cli(verb, "--run-dir", join(root, "nowhere"));
      expect(r.status).toBe(3);
      expect(r.stderr).toContain("no store at");
      expect(existsSync(join(root, "nowhere"))).toBe(false);
    }
  });
});
