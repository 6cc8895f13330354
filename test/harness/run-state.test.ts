import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSections } from "../../src/harness/output.ts";
import { applyScript, patchFiles, runStateRaw } from "../../src/harness/run-state.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";

const sandbox = createSandbox("auto");
let image: string;
beforeAll(async () => {
  const base = await ensureBaseImage(sandbox);
  image = "localhost/sweu-test-run-state:1";
  const b = await sandbox.build({
    tag: image,
    dockerfile: `FROM ${base}\nRUN mkdir /testbed && git -C /testbed init -q && git -C /testbed -c user.email=a@b -c user.name=a commit -q --allow-empty -m base\n`,
    contextDir: mkdtempSync(join(tmpdir(), "sweu-ctx-")),
  });
  if (!b.ok) throw new Error(b.log);
}, 900_000);
afterAll(() => sandbox.cleanup());

const script = (body: string) =>
  [
    "#!/bin/bash",
    'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
    'echo ">>>>> SWEU TEST OUTPUT START $nonce"',
    body,
    "rc=$?",
    'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
    "exit $rc",
  ].join("\n");

describe("state runner", () => {
  it("gives the script its nonce without letting any test process learn it", async () => {
    const probe = [
      // What a malicious test could look at: its own and its parents' environment, and the nonce file.
      'bash -c \'cat /proc/$PPID/environ /proc/self/environ 2>/dev/null | tr "\\0" "\\n"; env; cat /tmp/sweu/nonce 2>&1; ls /tmp/sweu\' > /tmp/seen.txt',
      "cat /tmp/seen.txt",
      "(exit 3)",
    ].join("\n");
    const raw = await runStateRaw(sandbox, {
      image,
      testPatch: "",
      evaluationScript: script(probe),
      timeoutMs: 60_000,
    });
    expect(raw.exitCode).toBe(3);
    const sections = extractSections(raw.output, raw.nonce);
    expect(sections.testOutput).toBeDefined();
    expect(sections.testOutput!).not.toContain(raw.nonce);
    expect(sections.testOutput!).toContain("No such file");
  }, 120_000);

  it("kills a hanging evaluation at its timeout and says so", async () => {
    const raw = await runStateRaw(sandbox, {
      image,
      testPatch: "",
      evaluationScript: script("sleep 600"),
      timeoutMs: 3_000,
    });
    expect(raw.timedOut).toBe(true);
    expect(raw.durationMs).toBeLessThan(60_000);
  }, 120_000);

  it("reports a test patch that does not apply, before running anything", async () => {
    const bad = "diff --git a/nope.txt b/nope.txt\n--- a/nope.txt\n+++ b/nope.txt\n@@ -1 +1 @@\n-a\n+b\n";
    const raw = await runStateRaw(sandbox, {
      image,
      testPatch: bad,
      evaluationScript: script("echo ran"),
      timeoutMs: 30_000,
    });
    expect(raw.apply).toBe("test_patch_failed");
    expect(raw.output).toBe("");
  }, 120_000);

  it("lists the files a patch touches and tries git apply, --3way, then patch --fuzz", () => {
    expect(patchFiles("diff --git a/x b/y\n--- a/x\n+++ b/y\ndiff --git a/z b/z\n")).toEqual(["x", "y", "z"]);
    const s = applyScript("/p.diff");
    expect(s.indexOf("git apply -v /p.diff")).toBeLessThan(s.indexOf("--3way"));
    expect(s.indexOf("--3way")).toBeLessThan(s.indexOf("patch --batch --fuzz=5"));
  });
});
