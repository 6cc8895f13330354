import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderDockerfile } from "../../src/builder/dockerfile.ts";
import { ensurePlanImages } from "../../src/builder/recipes/plan-images.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";

const sandbox = createSandbox("auto");
let baseImage: string;
let root: string;
const tag = `localhost/sweu-test-plan-image:${process.pid}`;
const envTag = `localhost/sweu-test-plan-env:${process.pid}`;

beforeAll(async () => {
  baseImage = await ensureBaseImage(sandbox);
  root = mkdtempSync(join(tmpdir(), "sweu-plan-image-"));
}, 900_000);
afterAll(async () => {
  await sandbox.removeImage(envTag).catch(() => {});
  await sandbox.removeImage(tag).catch(() => {});
  await sandbox.cleanup();
  rmSync(root, { recursive: true, force: true });
});

describe("plan images: a toolchain copied in with COPY --from", () => {
  it("builds the image from a host directory once, leaves excluded paths out, and the plan copies from it", async () => {
    const tool = join(root, "toolchain");
    mkdirSync(join(tool, "bin"), { recursive: true });
    mkdirSync(join(tool, "share", "doc"), { recursive: true });
    writeFileSync(join(tool, "bin", "hello"), "#!/bin/sh\necho hello from the host toolchain\n");
    chmodSync(join(tool, "bin", "hello"), 0o755);
    writeFileSync(join(tool, "share", "doc", "big.html"), "docs");
    const plan: BuildPlan = {
      name: "test/plan-image",
      language: "rust",
      apt: [],
      images: [
        { tag, dockerfile: "FROM scratch\nCOPY src /opt/tool\n", source: tool, exclude: ["share/doc"] },
      ],
      dockerSteps: [`COPY --from=${tag} /opt/tool /opt/tool`],
      toolchain: ["/opt/tool/bin/hello"],
      env: { PATH: "/opt/tool/bin:/usr/bin:/bin" },
      install: [],
      test: "hello",
      parser: "tap",
      toolchainVersions: {},
    };
    const first = await ensurePlanImages(sandbox, plan);
    expect(first.ok, first.log).toBe(true);
    expect(first.log).toContain(`${tag}: built`);
    expect((await ensurePlanImages(sandbox, plan)).log).toContain(`${tag}: present`);
    // The host directory is untouched by the excluded paths being left out of the context.
    expect(() => rmSync(join(tool, "share", "doc", "big.html"))).not.toThrow();

    const context = mkdtempSync(join(root, "ctx-"));
    mkdirSync(join(context, "testbed"));
    const dockerfile = renderDockerfile({ baseImage, plan });
    const b = await sandbox.build({ tag: envTag, dockerfile, contextDir: context, network: false });
    expect(b.ok, b.log.slice(-2000)).toBe(true);
    const c = await sandbox.start({ image: envTag });
    try {
      const r = await c.exec("/opt/tool/bin/hello && ls /opt/tool/share 2>&1 | wc -l");
      expect(r.output.trim().split("\n")).toEqual(["hello from the host toolchain", "0"]);
    } finally {
      await c.remove();
    }
  }, 600_000);

  it("fails plainly when the host directory is missing", async () => {
    const r = await ensurePlanImages(sandbox, {
      images: [{ tag: `${tag}-missing`, dockerfile: "FROM scratch\n", source: join(root, "nope") }],
    });
    expect(r.ok).toBe(false);
    expect(r.log).toContain("cannot copy");
  });
});
