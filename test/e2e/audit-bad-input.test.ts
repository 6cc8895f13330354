import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditReport } from "../../src/checks/audit.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { run } from "../../src/util/exec.ts";
import { buildProbeImage } from "../helpers/probe-image.ts";

/**
 * check-verifier on verifiers that misbehave, as a person runs it (the real CLI, real containers): one that
 * hangs, fork-bombs, prints nothing, deletes /testbed or needs the network. Each gets a verdict with a
 * reason, within the time limit, and no container of the audit is left behind. The task is the probe
 * image's (a.py: x = 1, fixed to x = 2; the test patch adds test_a.sh, a shell test: the image has no Python).
 */
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const sandbox = createSandbox("auto");
const image = "localhost/sweu-test-audit-bad:latest";
const dir = mkdtempSync(join(tmpdir(), "sweu-audit-bad-"));

beforeAll(async () => {
  await buildProbeImage(sandbox, image);
  writeFileSync(
    join(dir, "task.json"),
    JSON.stringify({
      instance_id: "local__probe-1",
      patch: "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n",
      test_patch:
        "diff --git a/test_a.sh b/test_a.sh\nnew file mode 100644\n--- /dev/null\n+++ b/test_a.sh\n@@ -0,0 +1,2 @@\n+x=$(sed -n 's/^x = //p' a.py)\n+[ \"$x\" = 2 ]\n",
    }),
  );
}, 600_000);
afterAll(async () => {
  await sandbox.removeImage(image).catch(() => {});
  await sandbox.cleanup();
});

function audit(
  script: string,
  ...args: string[]
): Promise<{ code: number | null; report: AuditReport; ms: number }> {
  const file = join(dir, `v-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, script);
  const started = Date.now();
  return new Promise((ok, fail) => {
    const p = spawn(
      process.execPath,
      [MAIN, "check-verifier", dir, "--script", file, "--image", image, "--json", ...args],
      {
        env: { ...process.env, SWEU_MODEL: "", SWEU_MODEL_BASE_URL: "" },
      },
    );
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("close", (code) => {
      try {
        ok({ code, report: JSON.parse(out) as AuditReport, ms: Date.now() - started });
      } catch {
        fail(new Error(`exit ${code}: ${out}\n${err}`));
      }
    });
  });
}

const leftovers = async () =>
  (await run(sandbox.engine, ["ps", "-a", "-q", "--filter", `ancestor=${image}`])).stdout.trim();

describe("check-verifier on verifiers that misbehave (real CLI, real containers)", () => {
  it("a verifier that hangs: broken, cut short at the time limit, the buggy state not waited for", async () => {
    const r = await audit("#!/bin/bash\nsleep 3600\n", "--timeout", "5");
    expect(r.code).toBe(1);
    expect(r.report.verdict).toBe("broken");
    expect(r.report.because.join()).toMatch(/the resolved state was cut short \(timed out after 5s\)/);
    expect(r.ms).toBeLessThan(60_000);
    expect(await leftovers()).toBe("");
  }, 120_000);

  it("a fork bomb meets the process limit and ends as broken; the machine and the engine carry on", async () => {
    // The bomb fills the process table, then the test runs in whatever gap it finds: what it printed says
    // nothing of the code, so the verdict is the process limit's, not the test's.
    const bomb = "#!/bin/bash\ncd /testbed\nbomb() { bomb | bomb & }\nbomb\nbash test_a.sh\n";
    const r = await audit(bomb, "--timeout", "10", "--pids", "128");
    expect(r.report.verdict, JSON.stringify(r.report, null, 1)).toBe("broken");
    expect(r.code).toBe(1);
    expect(r.report.because.join()).toMatch(/met the container's process limit in the .*state/);
    expect(await leftovers()).toBe("");
    const after = await audit("#!/bin/bash\ncd /testbed\nbash test_a.sh\n", "--timeout", "30");
    expect(after.report.checks.find((c) => c.check === "baseline")?.passed).toBe(true);
  }, 240_000);

  it("a verifier that prints nothing is judged by its exit code: silent and honest passes, silent exit 0 is broken", async () => {
    const quiet = await audit(
      "#!/bin/bash\ncd /testbed\nbash test_a.sh >/dev/null 2>&1\n",
      "--timeout",
      "30",
    );
    expect(quiet.report.checks.find((c) => c.check === "baseline")).toMatchObject({ passed: true });
    const nothing = await audit("#!/bin/bash\n", "--timeout", "30");
    expect(nothing.report.verdict).toBe("broken");
    expect(nothing.report.because.join()).toMatch(
      /the buggy state passes \(exit 0\); its last output: it printed nothing/,
    );
  }, 240_000);

  it("a verifier that deletes /testbed: broken, and said so", async () => {
    const r = await audit("#!/bin/bash\nrm -rf /testbed\nexit 0\n", "--timeout", "30");
    expect(r.report.verdict).toBe("broken");
    expect(r.report.because).toContain("the verifier deleted /testbed");
    expect(await leftovers()).toBe("");
  }, 120_000);

  it("a verifier that needs the network: broken (evaluation has none), the reaching out named", async () => {
    const r = await audit(
      "#!/bin/bash\ncd /testbed\nexec 3<>/dev/tcp/deb.debian.org/80 || exit 1\nbash test_a.sh\n",
      "--timeout",
      "30",
    );
    expect(r.report.verdict).toBe("broken");
    expect(r.report.because.join("\n")).toMatch(/the resolved state fails/);
    expect(r.report.because.join("\n")).toMatch(
      /static:network: line 3: opens a network socket via \/dev\/tcp/,
    );
  }, 120_000);
});
