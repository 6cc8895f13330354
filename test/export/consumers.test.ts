import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { instanceToRow, rowToInstance } from "../../src/export/dataset.ts";
import { harborTaskToml, writeHarborTask } from "../../src/export/harbor.ts";
import { bundleCommit, localImagesOf, portableDockerfile } from "../../src/export/portable.ts";
import { baseRecipe } from "../../src/sandbox/base-image.ts";
import { TestRepo } from "../helpers/repos.ts";
import { makeInstance } from "./fixtures.ts";

describe("rows for other people's loaders", () => {
  it("carry image_name (the pushed reference, else the local tag) and a self-contained eval_script", () => {
    const local = makeInstance({ instance_id: "acme__widgets-1" });
    const pushed = makeInstance({
      instance_id: "acme__widgets-2",
      image_name: "reg.example:5000/sweu/x:latest",
    });
    const [a, b] = [local, pushed].map(instanceToRow);
    expect(a!.image_name).toBe(local.image);
    expect(b!.image_name).toBe("reg.example:5000/sweu/x:latest");
    expect(a!.eval_script).toContain(`git checkout -q ${local.base_commit} -- 'tests/test_w.py'`);
    expect(a!.eval_script).toContain(local.evaluation_script.trim());
    // Read back: eval_script is derived again, image_name kept only where it says more than `image`.
    expect(rowToInstance(a)).toEqual(local);
    expect(rowToInstance(b)).toEqual(pushed);
  });
});

describe("Harbor task folders", () => {
  it("write instruction, task config, environment FROM the pushed image, tests and the oracle solution", async () => {
    const inst = makeInstance({
      instance_id: "acme__widgets-3",
      image_name: "reg.example:5000/sweu/w:latest",
    });
    const out = mkdtempSync(join(tmpdir(), "sweu-harbor-unit-"));
    const { dir, needs } = await writeHarborTask(out, inst);
    expect(needs).toEqual([]);
    expect(readFileSync(join(dir, "instruction.md"), "utf8")).toBe(`${inst.problem_statement}\n`);
    expect(readFileSync(join(dir, "environment", "Dockerfile"), "utf8")).toBe(
      "FROM reg.example:5000/sweu/w:latest\nWORKDIR /testbed\n",
    );
    const toml = readFileSync(join(dir, "task.toml"), "utf8");
    expect(toml).toContain('docker_image = "reg.example:5000/sweu/w:latest"');
    expect(toml).toContain('fail_to_pass = ["tests/test_w.py::test_off_by_one"]');
    expect(toml).toContain("allow_internet = false");
    expect(readFileSync(join(dir, "tests", "test.sh"), "utf8")).toContain("/logs/verifier/reward.txt");
    expect(statSync(join(dir, "tests", "eval_script.sh")).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir, "solution", "solve.sh"), "utf8")).toContain(inst.patch.trim());
    // Every shell file parses.
    for (const f of ["tests/test.sh", "tests/eval_script.sh", "solution/solve.sh"])
      expect(spawnSync("bash", ["-n", join(dir, f)]).status, f).toBe(0);
  });

  it("say what they lack when the image was never pushed and no clone is at hand", async () => {
    const inst = makeInstance({ instance_id: "acme__widgets-4" });
    const { dir, needs } = await writeHarborTask(mkdtempSync(join(tmpdir(), "sweu-harbor-unit-")), inst);
    expect(needs[0]).toMatch(/never pushed/);
    expect(readFileSync(join(dir, "environment", "NEEDS.md"), "utf8")).toContain(inst.image);
    expect(harborTaskToml(inst, {})).not.toContain("docker_image");
  });
});

describe("portable rebuild contexts", () => {
  it("start FROM the public root with the base layers and unpack the repository from a bundle", () => {
    const inst = makeInstance({
      instance_id: "acme__widgets-5",
      dockerfile:
        "FROM localhost/sweu-base:bookworm-abc\nSHELL x\nCOPY testbed /testbed\nWORKDIR /testbed\nRUN pip install .\n",
    });
    const df = portableDockerfile(inst);
    expect(df.startsWith("FROM docker.io/library/debian:bookworm-slim\n")).toBe(true);
    expect(df).toContain(baseRecipe().trim());
    expect(df).not.toContain("COPY testbed /testbed");
    expect(df).toContain(`fetch -q --no-tags /tmp/sweu-testbed.bundle ${inst.base_commit}`);
    expect(df.trimEnd().endsWith("RUN pip install .")).toBe(true);
    expect(localImagesOf("COPY --from=localhost/sweu.toolchain.rust:1 /opt/rust /opt/rust\n")).toEqual([
      "localhost/sweu.toolchain.rust:1",
    ]);
  });

  it("bundle the base commit's history only: a later commit never enters the bundle", async () => {
    const repo = new TestRepo("sweu-bundle-");
    const base = repo.commit("base", { "a.txt": "1\n" });
    const later = repo.commit("the fix", { "a.txt": "2\n" });
    const file = join(mkdtempSync(join(tmpdir(), "sweu-bundle-out-")), "t.bundle");
    await bundleCommit(repo.dir, base, file);
    const heads = spawnSync("git", ["bundle", "list-heads", file], { encoding: "utf8" }).stdout;
    expect(heads).toContain(base);
    const clone = mkdtempSync(join(tmpdir(), "sweu-bundle-clone-"));
    spawnSync("git", ["clone", "-q", file, clone]);
    const objects = spawnSync("git", ["-C", clone, "cat-file", "-e", later]).status;
    expect(objects).not.toBe(0);
  });
});
