import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commentProbe, noTestsProbe } from "../../src/checks/probes.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { makeTask } from "../export/fixtures.ts";
import { buildProbeImage, probeScript } from "../helpers/probe-image.ts";

/** The dynamic probes on a real container: they fail closed when the run says nothing about the verifier. */
const sandbox = createSandbox("auto");
const image = "localhost/sweu-test-probes:latest";
const patch = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n";
const testPatch =
  "diff --git a/test_a.py b/test_a.py\nnew file mode 100644\n--- /dev/null\n+++ b/test_a.py\n@@ -0,0 +1 @@\n+assert x == 2\n";
const task = {
  ...makeTask(1),
  patch,
  test_patch: testPatch,
  test_files: ["test_a.py"],
  code_files: ["a.py"],
};

beforeAll(() => buildProbeImage(sandbox, image), 600_000);
afterAll(async () => {
  await sandbox.removeImage(image).catch(() => {});
  await sandbox.cleanup();
});

const probe = (evaluationScript: string) => ({ sandbox, image, evaluationScript, timeoutMs: 20_000 });

describe("dynamic probes on real containers", () => {
  it("pass an honest verifier and catch one that passes anyway", async () => {
    const honest = probeScript(`[ "$(head -1 a.py)" = "x = 2" ] && [ -f test_a.py ]`);
    expect(await commentProbe(task, probe(honest))).toMatchObject({ passed: true });
    const always = probeScript("true; exit 0");
    const c = await commentProbe(task, probe(always));
    expect(c.passed).toBe(false);
    expect(c.reasons[0]).toMatch(/passes when the fix is present only as comments/);
  }, 300_000);

  it("fail closed when the engine or the machine cut the run short, instead of counting it as a pass", async () => {
    const killed = await commentProbe(task, probe(probeScript("kill -9 $$")));
    expect(killed.passed).toBe(false);
    expect(killed.reasons[0]).toMatch(/inconclusive twice \(exit 137: killed/);
    const missing = await noTestsProbe(task, ["test_a.py"], probe(probeScript("no-such-runner test_a.py")));
    expect(missing.passed).toBe(false);
    expect(missing.reasons[0]).toMatch(/inconclusive twice \(exit 127: a command was not found\)/);
    const hung = await commentProbe(task, { ...probe(probeScript("sleep 60")), timeoutMs: 2_000 });
    expect(hung.passed).toBe(false);
    expect(hung.reasons[0]).toMatch(/inconclusive twice \(timed out after 2s\)/);
    const silent = await commentProbe(task, probe(probeScript("exit 1", false)));
    expect(silent.reasons[0]).toMatch(/ended before its tests started/);
  }, 300_000);
});
