import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { distinctiveLines, leakProbe } from "../../src/checks/leak.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";

/**
 * The leak probe on a real container: an image whose /testbed carries ignored build output made from the
 * fixed code (as an environment built at a later commit would), or the repository's own package at a newer
 * version in node_modules, hands the fix over and the probe says so; a line that another package (moment)
 * also has is a coincidence and is kept.
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

/** One Belarusian locale line: dayjs's fix, and a line moment (which dayjs's tests compare against) also has. */
const LOCALE = "months: 'студзеня_лютага_сакавіка_красавіка_траўня_чэрвеня'.split('_'),";
const localePatch = [
  "diff --git a/src/locale/be.js b/src/locale/be.js",
  "--- a/src/locale/be.js",
  "+++ b/src/locale/be.js",
  "@@ -1 +1,2 @@",
  " const locale = {",
  `+  ${LOCALE}`,
  "",
].join("\n");
/** A fix of dayjs itself whose lines a newer dayjs, installed from the registry into node_modules, carries. */
const OWN = [
  "const offsetMinutes = Math.round(date.getTimezoneOffset() / 15) * 15",
  "return wrapper(this.$d.getTime() + offsetMinutes * MS_PER_MINUTE, this)",
];
const ownPatch = [
  "diff --git a/src/index.js b/src/index.js",
  "--- a/src/index.js",
  "+++ b/src/index.js",
  "@@ -1 +1,3 @@",
  " const utc = true",
  ...OWN.map((l) => `+  ${l}`),
  "",
].join("\n");

function write(dir: string, files: Record<string, string>): void {
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
}

beforeAll(async () => {
  const base = await ensureBaseImage(sandbox);
  const ctx = mkdtempSync(join(tmpdir(), "sweu-leak-"));
  try {
    write(join(ctx, "testbed"), {
      "app.py": "# totals are computed over all the items given\ndef total(items):\n    return sum(items)\n",
      "package.json": '{\n  "name": "dayjs",\n  "version": "1.11.0"\n}\n',
      "src/locale/be.js": "const locale = {\n",
      "src/index.js": "const utc = true\n",
      ".gitignore": "dist/\nnode_modules/\n",
    });
    // Not committed: build output made from the fixed code, moment's copy of the locale line, and a newer
    // dayjs installed from the registry (as a dependency that depends on dayjs would pull in).
    write(join(ctx, "untracked"), {
      "dist/app.py": `${fixed.join("\n")}\n`,
      "node_modules/moment/package.json": '{"name": "moment"}\n',
      "node_modules/moment/src/locale/be.js": `export default {\n  ${LOCALE}\n}\n`,
      "node_modules/some-plugin/node_modules/dayjs/esm/index.js": `${OWN.join("\n")}\n`,
    });
    const r = await sandbox.build({
      tag: image,
      contextDir: ctx,
      dockerfile: [
        `FROM ${base}`,
        "COPY testbed /testbed",
        "RUN cd /testbed && git init -q && git add -A && git -c user.email=t@t -c user.name=t commit -qm base",
        "COPY untracked /testbed",
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
      /2 of the fix's 2 distinctive added lines are already in the repository's own code .*dist\/app\.py/,
    );
  }, 120_000);

  it("keeps a locale line that only another package (moment) also has", async () => {
    const v = await leakProbe({ patch: localePatch, repo: "iamkun/dayjs" }, { sandbox, image });
    expect(v).toMatchObject({ check: "leak-probe", passed: true });
    expect(v.reasons[0]).toMatch(/evidence, not a leak: .*node:moment: 1 of 1/);
  }, 120_000);

  it("catches the repository's own newer package in node_modules, however deep", async () => {
    const v = await leakProbe({ patch: ownPatch }, { sandbox, image });
    expect(v).toMatchObject({ check: "leak-probe", passed: false });
    expect(v.reasons[0]).toMatch(
      /2 of the fix's 2 .*own installed package.*node_modules\/some-plugin\/node_modules\/dayjs\/esm\/index\.js/,
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
