import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commentPrefix, commentProbePatch } from "../../src/checks/probes.ts";
import { pythonProject, TestRepo } from "../helpers/repos.ts";

describe("comment probe patch", () => {
  it("keeps the buggy behaviour while putting the fix's text into the source", () => {
    const repo = pythonProject();
    const base = repo.git("rev-parse", "HEAD^1");
    const gold = `${repo.git("diff", base, "HEAD", "--", "calc")}\n`;
    const probe = commentProbePatch(gold)!;
    repo.git("checkout", "-q", base);
    writeFileSync(join(repo.dir, "probe.diff"), probe);
    repo.git("apply", "probe.diff");
    const src = readFileSync(join(repo.dir, "calc/ops.py"), "utf8");
    expect(src).toContain("# return min(hi, max(lo, x))");
    expect(src).toContain("    return max(lo, x)\n");
    const out = execFileSync("python3", ["-c", "from calc import clamp; print(clamp(50, 0, 10))"], {
      cwd: repo.dir,
      encoding: "utf8",
    });
    expect(out.trim()).toBe("50");
  });

  it("handles several hunks, new files and skips files it cannot comment", () => {
    const r = new TestRepo();
    const lines = Array.from({ length: 40 }, (_, i) => `const v${i} = ${i};`);
    const base = r.commit("base", { "a.js": `${lines.join("\n")}\n`, "data.json": '{"a":1}\n' });
    const changed = [...lines];
    changed[2] = "const v2 = 200;";
    changed.splice(30, 0, "const extra = 1;", "const extra2 = 2;");
    r.commit("fix", {
      "a.js": `${changed.join("\n")}\n`,
      "data.json": '{"a":2}\n',
      "lib/new.js": "export const n = 1;\n",
    });
    const gold = `${r.git("diff", base, "HEAD")}\n`;
    const probe = commentProbePatch(gold)!;
    expect(probe).not.toContain("data.json");
    r.git("checkout", "-q", base);
    writeFileSync(join(r.dir, "p.diff"), probe);
    r.git("apply", "--check", "p.diff");
    r.git("apply", "p.diff");
    const a = readFileSync(join(r.dir, "a.js"), "utf8");
    expect(a).toContain("const v2 = 2;\n// const v2 = 200;");
    expect(a).toContain("// const extra2 = 2;");
    expect(readFileSync(join(r.dir, "lib/new.js"), "utf8")).toBe("// export const n = 1;\n");
  });

  it("returns nothing to probe for a fix with no commentable file", () => {
    const gold = "diff --git a/x.json b/x.json\n--- a/x.json\n+++ b/x.json\n@@ -1 +1 @@\n-1\n+2\n";
    expect(commentProbePatch(gold)).toBeUndefined();
    expect(commentPrefix("a/b.rs")).toBe("//");
    expect(commentPrefix("Makefile")).toBeUndefined();
  });
});
