import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distinctiveLines, leakProbe } from "../../src/checks/leak.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";

/**
 * The leak probe on a real container: an image whose /testbed carries ignored build output made from the
 * fixed code (as an environment built at a later commit would) hands the fix over; the probe says so.
 */
const sandbox = createSandbox("auto");
const image = "localhost/sweu-test-leak-probe:latest";
const fixed = [
  "def total(items):",
  "    subtotal_after_discount = sum(items) - discount_for(items)",
  "    return round_to_cents(subtotal_after_discount)",
];
const patch = [
  "diff --git a/app.py b/app.py",
  "--- a/app.py",
  "+++ b/app.py",
  "@@ -1,2 +1,3 @@",
  " def total(items):",
  "-    return sum(items)",
  `+${fixed[1]}`,
  `+${fixed[2]}`,
  "",
].join("\n");

beforeAll(async () => {
  const base = await ensureBaseImage(sandbox);
  const ctx = mkdtempSync(join(tmpdir(), "sweu-leak-"));
  try {
    const r = await sandbox.build({
      tag: image,
      contextDir: ctx,
      dockerfile: [
        `FROM ${base}`,
        "RUN mkdir -p /testbed && cd /testbed && printf '# totals are computed over all the items given\\ndef total(items):\\n    return sum(items)\\n' > app.py \\",
        "  && printf 'dist/\\n' > .gitignore && git init -q && git add -A \\",
        "  && git -c user.email=t@t -c user.name=t commit -qm base \\",
        `  && mkdir dist && printf '%s\\n' '${fixed[0]}' '${fixed[1]}' '${fixed[2]}' > dist/app.py`,
        "WORKDIR /testbed",
      ].join("\n"),
    });
    if (!r.ok) throw new Error(r.log.slice(-2000));
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}, 600_000);
afterAll(async () => {
  await sandbox.removeImage(image).catch(() => {});
  await sandbox.cleanup();
});

describe("leak probe", () => {
  it("keeps the long added lines of the fix, longest first", () => {
    expect(distinctiveLines(patch)).toEqual([fixed[1]!.trim(), fixed[2]!.trim()]);
    expect(distinctiveLines("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b = 1\n")).toEqual([]);
  });

  it("finds the fix in ignored build output of the image and names the file", async () => {
    const v = await leakProbe({ patch }, { sandbox, image });
    expect(v).toMatchObject({ check: "leak-probe", kind: "leak", passed: false });
    expect(v.reasons[0]).toMatch(
      /2 of the fix's 2 distinctive added lines are already in untracked files.*dist\//,
    );
  }, 120_000);

  it("passes a fix found nowhere, and leaves out lines the base commit already has", async () => {
    const other = patch.replaceAll("subtotal_after_discount", "amount_after_the_new_rule");
    const none = await leakProbe({ patch: other }, { sandbox, image });
    expect(none).toMatchObject({ passed: true });
    expect(none.reasons[0]).toMatch(/none of the fix's 2 distinctive added lines/);
    const known =
      "diff --git a/b.py b/b.py\nnew file mode 100644\n--- /dev/null\n+++ b/b.py\n@@ -0,0 +1 @@\n+# totals are computed over all the items given\n";
    const v = await leakProbe({ patch: known }, { sandbox, image });
    expect(v).toMatchObject({ passed: true });
    expect(v.reasons[0]).toMatch(/every distinctive line of the fix is already in the base commit/);
  }, 120_000);
});
