import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bugDockerfile, HEAD_MARK, swapScript } from "../../src/synth/image.ts";
import { TestRepo } from "../helpers/repos.ts";

describe("the bug's layer: /testbed at the bug, a history without the fix", () => {
  it("the swap, run on a host folder, leaves one commit of the buggy tree and no object of the correct file", () => {
    const r = new TestRepo("sweu-synth-img-");
    r.commit("one", {
      "calc/ops.py": "def f(x):\n    return x + 1\n",
      "gone.txt": "x\n",
      ".gitignore": "build/\ndist/\n",
    });
    const fixed = r.commit("two", { "calc/ops.py": "def f(x):\n    return x + 2\n" });
    const fixedBlob = r.git("rev-parse", `${fixed}:calc/ops.py`);
    // What an install leaves: an ignored build folder, an excluded file, a bytecode cache; a tracked file gone.
    mkdirSync(join(r.dir, "build"));
    writeFileSync(join(r.dir, "build", "out.txt"), "built\n");
    // A bundler's untracked dist/ holds the correct code (path-to-regexp's dist/index.js.map): it goes.
    mkdirSync(join(r.dir, "dist"));
    writeFileSync(join(r.dir, "dist", "ops.js"), "return x + 2\n");
    writeFileSync(join(r.dir, "calc.egg-info"), "x\n");
    writeFileSync(join(r.dir, ".git", "info", "exclude"), "/calc.egg-info\n");
    mkdirSync(join(r.dir, "calc", "__pycache__"));
    writeFileSync(join(r.dir, "calc", "__pycache__", "ops.cpython-311.pyc"), "compiled from the fix\n");
    execFileSync("rm", [join(r.dir, "gone.txt")]);
    const scratch = mkdtempSync(join(tmpdir(), "sweu-synth-scratch-"));
    mkdirSync(join(scratch, "sweu-bug", "calc"), { recursive: true });
    writeFileSync(join(scratch, "sweu-bug", "calc", "ops.py"), "def f(x):\n    return x - 2\n");
    const out = execFileSync("bash", ["-euc", swapScript(r.dir, scratch).join(" && ")], { encoding: "utf8" });
    const head = new RegExp(`${HEAD_MARK} ([0-9a-f]{40})`).exec(out)?.[1];
    const git = (...a: string[]) => execFileSync("git", ["-C", r.dir, ...a], { encoding: "utf8" }).trim();
    expect(head).toBe(git("rev-parse", "HEAD"));
    expect(git("rev-list", "--all")).toBe(head);
    expect(git("status", "--porcelain")).toBe("");
    expect(git("show", "HEAD:calc/ops.py")).toBe("def f(x):\n    return x - 2");
    expect(git("ls-files").split("\n").sort()).toEqual([".gitignore", "calc/ops.py"]);
    expect(() => git("cat-file", "-e", fixedBlob)).toThrow();
    expect(readFileSync(join(r.dir, "build", "out.txt"), "utf8")).toBe("built\n");
    expect(() => readFileSync(join(r.dir, "dist", "ops.js"))).toThrow();
    expect(readFileSync(join(r.dir, ".git", "info", "exclude"), "utf8")).toBe("/calc.egg-info\n");
    expect(() => readFileSync(join(r.dir, "calc", "__pycache__", "ops.cpython-311.pyc"))).toThrow();
    // The same bug gives the same commit: fixed author, committer and date.
    expect(git("log", "-1", "--format=%an %ad", "--date=iso-strict")).toBe(
      "swe-universe 2000-01-01T00:00:00+00:00",
    );
  });

  it("is one thin layer on the environment's instance image", () => {
    const d = bugDockerfile("localhost/sweu.eval.o__r-1:latest");
    expect(d.split("\n")[0]).toBe("FROM localhost/sweu.eval.o__r-1:latest");
    expect(d).toContain("COPY bug /tmp/sweu-bug");
    expect(d.match(/^RUN /gm)).toHaveLength(2);
  });
});
