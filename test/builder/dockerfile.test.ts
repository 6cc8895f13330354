import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROFILE_SCRIPT, profileStep, renderDockerfile, settleStep } from "../../src/builder/dockerfile.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { instanceDockerfile } from "../../src/builder/reuse.ts";
import { baseRecipe, SYSTEM_EXCLUDES, TEST_CACHES } from "../../src/sandbox/base-image.ts";
import { TestRepo } from "../helpers/repos.ts";

const plan: BuildPlan = {
  name: "python/pip",
  language: "python",
  apt: [],
  toolchain: [],
  env: { VIRTUAL_ENV: "/opt/venv", PATH: "/opt/venv/bin:$PATH", NOTE: `it's "quoted" \`x\`` },
  install: ["pip install -e ."],
  test: "python -m pytest",
  parser: "pytest",
  toolchainVersions: {},
};

const bash = (script: string, env: Record<string, string> = {}) =>
  spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, ...env } });

describe("the environment in every way into the container", () => {
  it("writes the plan's variables to profile.d, sourced from bash.bashrc, after the ENV lines", () => {
    const df = renderDockerfile({ baseImage: "base", plan });
    const lines = df.split("\n");
    const env = lines.findIndex((l) => l.startsWith("ENV PATH="));
    const profile = lines.findIndex((l) => l.includes(PROFILE_SCRIPT));
    expect(env).toBeGreaterThan(0);
    expect(profile).toBe(lines.findIndex((l) => l.startsWith("ENV NOTE=")) + 1);
    // Run the step for real against a scratch root, then read the file as a login shell would.
    const root = mkdtempSync(join(tmpdir(), "sweu-profile-"));
    mkdirSync(join(root, "etc/profile.d"), { recursive: true });
    writeFileSync(join(root, "etc/bash.bashrc"), "# debian\n");
    const step = profileStep(plan.env).replace(/^RUN /, "").replaceAll("/etc/", `${root}/etc/`);
    expect(bash(step).status).toBe(0);
    expect(bash(step).status).toBe(0); // idempotent: bash.bashrc sources it once
    const rc = readFileSync(join(root, "etc/bash.bashrc"), "utf8");
    expect(rc.match(/00-sweu-env\.sh/g)?.length).toBe(2); // the test and the source, one line
    const r = bash(`PATH=/usr/bin:/bin; . ${root}${PROFILE_SCRIPT}; echo "$PATH|$VIRTUAL_ENV|$NOTE"`);
    expect(r.stdout.trim()).toBe(`/opt/venv/bin:/usr/bin:/bin|/opt/venv|it's "quoted" \`x\``);
  });

  it("leaves git status clean: install leftovers excluded, rewritten tracked files assumed unchanged", () => {
    const repo = new TestRepo("sweu-settle-");
    repo.commit("base", { "a.py": "x = 1\n", "package-lock.json": "{}\n", "src/m.py": "" });
    repo.write({
      "calc.egg-info/PKG-INFO": "x",
      "node_modules/x/index.js": "",
      "we[ird]*name.txt": "",
      "#notes": "",
      "package-lock.json": '{"rewritten": true}\n',
    });
    const step = settleStep()
      .replace(/^RUN /, "")
      .replace("cd /testbed", `cd ${repo.dir}`)
      .replace("git config --system --add safe.directory '*'", "true");
    const r = bash(step);
    expect(r.status, r.stderr).toBe(0);
    expect(repo.git("status", "--porcelain")).toBe("");
    // What running the tests writes later is ignored by the base image's system-wide exclude file; an
    // agent's own new file is not.
    const excludes = join(mkdtempSync(join(tmpdir(), "sweu-excl-")), "gitignore");
    writeFileSync(excludes, `${TEST_CACHES.join("\n")}\n`);
    repo.git("config", "core.excludesFile", excludes);
    repo.write({ "src/__pycache__/m.cpython-311.pyc": "", ".pytest_cache/v": "", "src/new.py": "" });
    expect(repo.git("status", "--porcelain")).toBe("?? src/new.py");
    expect(readFileSync(join(repo.dir, "package-lock.json"), "utf8")).toContain("rewritten");
  });

  it("ignores test caches in every repository of the base image", () => {
    const recipe = baseRecipe();
    expect(recipe).toContain(`git config --system core.excludesFile ${SYSTEM_EXCLUDES}`);
    for (const p of TEST_CACHES) expect(recipe).toContain(`'${p}'`);
  });

  it("settles the thin instance layer too (its .git is swapped in fresh)", () => {
    expect(instanceDockerfile("env:1", ["pip install --no-deps -e ."])).toContain(settleStep());
    expect(renderDockerfile({ baseImage: "base", plan }).trimEnd().endsWith(settleStep())).toBe(true);
  });
});
