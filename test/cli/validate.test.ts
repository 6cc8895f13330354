import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import type { Instance } from "../../src/records/index.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { pythonProjectBumpingVersion } from "../helpers/repos.ts";

/**
 * `swe-universe validate --rebuild` as a person runs it: the real CLI in a subprocess, on the run folder of
 * a small pipeline run; the image is built again from the Dockerfile the instance records.
 */
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const sandbox = createSandbox("auto");
let runDir: string;
let inst: Instance;

beforeAll(async () => {
  runDir = mkdtempSync(join(tmpdir(), "sweu-validate-run-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  // A small instance (the recipe, one run per state, no probes) whose gold patch changes a manifest: the
  // rebuild has to stage the resolved commit's copy as the builder did.
  const summary = await runPipeline(await GitSource.open(pythonProjectBumpingVersion().dir), store, sandbox, {
    runDir,
    runsPerState: 1,
    skipProbes: true,
  });
  if (summary.instances !== 1) throw new Error(JSON.stringify(store.listRejections()));
  inst = store.listInstances()[0]!;
  store.close();
}, 900_000);
afterAll(async () => {
  if (inst) await sandbox.removeImage(inst.image).catch(() => {});
  await sandbox.cleanup();
});

function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [MAIN, "validate", ...args], { env: process.env });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => ok({ code, out, err }));
  });
}

const withStore = <T>(fn: (s: SqliteStore) => T): T => {
  const s = new SqliteStore(join(runDir, "store.sqlite"));
  try {
    return fn(s);
  } finally {
    s.close();
  }
};

describe("validate --rebuild on a run folder (real CLI, real containers)", () => {
  it("rebuilds the image from the recorded Dockerfile and finds the instance valid, exit 0", async () => {
    // A full build (no shared environment): the validated image is the recorded Dockerfile's.
    expect(inst.validation.image_rebuilt).toBe(true);
    expect(inst.dockerfile).toContain("COPY deps-overlay/ /testbed/");
    const r = await cli("--run-dir", runDir, "--rebuild", "--runs", "1", "--skip-probes");
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe("1/1 instances valid");
    expect(r.err).toContain(`${inst.instance_id}: valid`);
    const again = withStore((s) => s.getInstance(inst.instance_id));
    expect(again).toMatchObject({
      image: inst.image,
      FAIL_TO_PASS: inst.FAIL_TO_PASS,
      validation: { runs_per_state: 1, image_rebuilt: true },
    });
  }, 600_000);

  it("a Dockerfile that no longer builds: image_rebuild_failed, the instance gone from the store, exit 1", async () => {
    const broken = inst.dockerfile.replace("COPY testbed /testbed", "COPY testbed-gone /testbed");
    expect(broken).not.toBe(inst.dockerfile);
    withStore((s) => s.putInstance({ ...inst, dockerfile: broken }));
    const r = await cli("--run-dir", runDir, "--rebuild", "--runs", "1", "--skip-probes");
    expect(r.code, r.err).toBe(1);
    expect(r.out.trim()).toBe("0/1 instances valid");
    withStore((s) => {
      expect(s.getRejection(inst.instance_id)).toMatchObject({
        stage: "validate",
        reason: "image_rebuild_failed",
        number: 1,
      });
      expect(s.getRejection(inst.instance_id)!.detail).toContain("testbed-gone");
      expect(s.listInstances()).toEqual([]);
      expect(s.outcome(inst.instance_id)).toBe("rejected");
    });
  }, 600_000);
});
