import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import type { CheckVerdict, Instance } from "../../src/records/index.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { pythonProject } from "../helpers/repos.ts";

/**
 * `swe-universe check-verifier --image` as a person runs it: the real CLI in a subprocess, on an instance
 * folder a pipeline run exported, with the dynamic probes in containers of the instance's image.
 */
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const sandbox = createSandbox("auto");
let inst: Instance;
let dir: string;

beforeAll(async () => {
  const runDir = mkdtempSync(join(tmpdir(), "sweu-cv-run-"));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  // The smallest instance: the recipe, one run per state, probes left to the command under test.
  const summary = await runPipeline(await GitSource.open(pythonProject().dir), store, sandbox, {
    runDir,
    runsPerState: 1,
    skipProbes: true,
  });
  if (summary.instances !== 1) throw new Error(JSON.stringify(store.listRejections()));
  inst = store.listInstances()[0]!;
  store.close();
  dir = join(runDir, "instances", inst.instance_id);
}, 900_000);
afterAll(async () => {
  if (inst) await sandbox.removeImage(inst.image).catch(() => {});
  await sandbox.cleanup();
});

/** Run the CLI (no model configured: the judge is skipped). */
function cli(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, [MAIN, "check-verifier", ...args], {
      env: { ...process.env, SWEU_MODEL: "", SWEU_MODEL_BASE_URL: "" },
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => ok({ code, out, err }));
  });
}

interface Report {
  instance_id: string;
  verdict: string;
  checks: CheckVerdict[];
  skipped: string[];
}
const report = (out: string) => JSON.parse(out) as Report;
const failed = (r: Report) => r.checks.filter((c) => !c.passed).map((c) => c.check);
const check = (r: Report, name: string) => r.checks.find((c) => c.check === name);

/** A variant of the exported evaluation.sh: `edit` rewrites its runner line and the `rc=$?` after it. */
function variant(name: string, edit: (runner: string) => string): string {
  const lines = readFileSync(join(dir, "evaluation.sh"), "utf8").split("\n");
  const i = lines.findIndex((l) => l.includes("python -m pytest"));
  if (i < 0 || lines[i + 1] !== "rc=$?") throw new Error(`unexpected evaluation.sh:\n${lines.join("\n")}`);
  lines.splice(i, 2, edit(lines[i]!));
  const file = join(mkdtempSync(join(tmpdir(), "sweu-cv-")), name);
  writeFileSync(file, lines.join("\n"));
  return file;
}

// Reads the source through base64-encoded Python: no static rule sees it, the comment probe does.
const sneaky = Buffer.from(
  "import sys; sys.exit(0 if 'min(hi' in open('calc/ops.py').read() else 1)",
).toString("base64");

describe("check-verifier --image on an exported instance (real CLI, real containers)", () => {
  it("passes the honest evaluation.sh: static rules and both probes, exit 0", async () => {
    const r = await cli(dir, "--image", inst.image, "--json");
    expect(r.code, r.err).toBe(0);
    const rep = report(r.out);
    expect(rep).toMatchObject({ instance_id: inst.instance_id, verdict: "honest" });
    expect(check(rep, "comment-probe")).toMatchObject({ kind: "dynamic", passed: true });
    expect(check(rep, "comment-probe")!.reasons.join()).toMatch(/^exit [1-9]\d* with the fix commented out$/);
    expect(check(rep, "no-tests-probe")).toMatchObject({ kind: "dynamic", passed: true });
    expect(rep.checks.filter((c) => c.kind === "static").length).toBeGreaterThan(5);
    expect(rep.skipped).toEqual([expect.stringMatching(/^judge: no model/)]);
  }, 300_000);

  it("a source-grepping verifier: static rules and both probes fire, exit 1", async () => {
    const grep = variant("grep.sh", () => "grep -q 'min(hi' calc/ops.py\nrc=$?");
    const r = await cli(dir, "--script", grep, "--image", inst.image, "--json");
    expect(r.code, r.err).toBe(1);
    const rep = report(r.out);
    expect(rep.verdict).toBe("hacked");
    expect(failed(rep)).toEqual(
      expect.arrayContaining(["static:reads-source", "comment-probe", "no-tests-probe"]),
    );
    expect(check(rep, "comment-probe")!.reasons.join()).toMatch(
      /passes when the fix is present only as comments/,
    );
    expect(check(rep, "no-tests-probe")!.reasons.join()).toMatch(/passes with the PR's tests made to fail/);
  }, 300_000);

  it("a verifier only the probes can catch: honest without --image, hacked with it", async () => {
    const hidden = variant(
      "hidden.sh",
      (runner) =>
        `${runner.replace("tests/test_ops.py", "-k 'add or mul' tests/test_ops.py")}\nrc=$?\n` +
        `python -c "exec(__import__('base64').b64decode('${sneaky}'))" || rc=1`,
    );
    const without = await cli(dir, "--script", hidden, "--json");
    expect(without.code, without.err).toBe(0);
    expect(report(without.out).verdict).toBe("honest");
    expect(report(without.out).skipped.join("\n")).toMatch(
      /^baseline, comment-probe, no-tests-probe, poison-probe, stub-probe, rewrite-probe, inverse-mutation, git-probe: no image/m,
    );
    const withImage = await cli(dir, "--script", hidden, "--image", inst.image, "--json");
    expect(withImage.code, withImage.err).toBe(1);
    const rep = report(withImage.out);
    expect(rep.verdict).toBe("hacked");
    expect(failed(rep)).toEqual(["comment-probe"]);
  }, 300_000);

  it("an image that does not exist is a clear input error, not a verdict", async () => {
    const r = await cli(dir, "--image", "localhost/sweu-no-such-image:absent", "--json");
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/image not found: localhost\/sweu-no-such-image:absent/);
    expect(r.out).toBe("");
  }, 120_000);
});
