import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractSections } from "../../src/harness/output.ts";
import { applyScript, patchFiles, runInContainer, runStateRaw } from "../../src/harness/run-state.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { type Container, passThrough, type Sandbox } from "../../src/sandbox/sandbox.ts";

const sandbox = createSandbox("auto");
let image: string;
const noBase64 = "localhost/sweu-test-run-state-nob64:1";
beforeAll(async () => {
  const base = await ensureBaseImage(sandbox);
  image = "localhost/sweu-test-run-state:1";
  const b = await sandbox.build({
    tag: image,
    dockerfile: `FROM ${base}\nRUN mkdir /testbed && git -C /testbed init -q && git -C /testbed -c user.email=a@b -c user.name=a commit -q --allow-empty -m base\n`,
    contextDir: mkdtempSync(join(tmpdir(), "sweu-ctx-")),
  });
  if (!b.ok) throw new Error(b.log);
  const c = await sandbox.build({
    tag: noBase64,
    dockerfile: `FROM ${image}\nRUN rm -f "$(command -v base64)"\n`,
    contextDir: mkdtempSync(join(tmpdir(), "sweu-ctx-")),
  });
  if (!c.ok) throw new Error(c.log);
}, 900_000);
afterAll(async () => {
  await sandbox.removeImage(noBase64).catch(() => undefined);
  await sandbox.cleanup();
});

/** The sandbox, counting the engine calls its containers get. */
function counting(): { sb: Sandbox; calls: string[] } {
  const calls: string[] = [];
  const sb: Sandbox = {
    ...passThrough(sandbox),
    async start(spec) {
      const c = await sandbox.start(spec);
      const counted: Container = {
        id: c.id,
        exec: (script, o) => {
          calls.push("exec");
          return c.exec(script, o);
        },
        writeFile: (path, content, mode) => {
          calls.push("writeFile");
          return c.writeFile(path, content, mode);
        },
        readFile: (path) => c.readFile(path),
        copyIn: (h, path) => c.copyIn(h, path),
        commit: (tag) => c.commit(tag),
        remove: () => c.remove(),
      };
      return counted;
    },
  };
  return { sb, calls };
}

const ADD_FILE =
  "diff --git a/f.txt b/f.txt\nnew file mode 100644\n--- /dev/null\n+++ b/f.txt\n@@ -0,0 +1 @@\n+patched\n";

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

  it("stages and tests in one engine call, and times the tests alone", async () => {
    const { sb, calls } = counting();
    const raw = await runStateRaw(sb, {
      image,
      patch: ADD_FILE,
      testPatch: "",
      evaluationScript: script("cat f.txt; sleep 1.2"),
      timeoutMs: 60_000,
    });
    expect(calls).toEqual(["exec"]);
    expect(raw).toMatchObject({ apply: "applied", exitCode: 0, timedOut: false });
    expect(raw.applyLog).toContain("Applied patch");
    // The output is the script's own: the markers and what it printed, no staging tag.
    expect(raw.output).not.toContain("SWEU-STAGED");
    expect(raw.output.startsWith(">>>>> SWEU TEST OUTPUT START")).toBe(true);
    expect(extractSections(raw.output, raw.nonce).testOutput).toContain("patched");
    expect(raw.durationMs).toBeGreaterThanOrEqual(1200);
    expect(raw.durationMs).toBeLessThan(3000);
  }, 120_000);

  it("stages a file and a step at a time in an image without base64, with the same outcome", async () => {
    const { sb, calls } = counting();
    const raw = await runStateRaw(sb, {
      image: noBase64,
      patch: ADD_FILE,
      testPatch: "",
      evaluationScript: script("cat f.txt"),
      timeoutMs: 60_000,
    });
    expect(raw).toMatchObject({ apply: "applied", exitCode: 0, timedOut: false });
    expect(extractSections(raw.output, raw.nonce).testOutput).toContain("patched");
    expect(calls.filter((c) => c === "exec").length).toBeGreaterThan(1);
  }, 120_000);

  it("leaves nothing of a timed-out run running, not even a process that left its group", async () => {
    const c = await sandbox.start({ image, network: false, labels: { "sweu.role": "state" } });
    try {
      const raw = await runInContainer(c, {
        image,
        testPatch: "",
        evaluationScript: script("setsid sleep 311 & sleep 600"),
        timeoutMs: 3_000,
      });
      expect(raw.timedOut).toBe(true);
      expect(raw.durationMs).toBeGreaterThanOrEqual(2900);
      const left = await c.exec("ps -eo args | grep -c '^sleep [36]1[1]' || true", { timeoutMs: 30_000 });
      expect(left.output.trim()).toBe("0");
    } finally {
      await c.remove();
    }
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
