import { afterAll, describe, expect, it } from "vitest";
import { pushImage, registryRef } from "../../src/queue/registry.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { freePort } from "./redis.ts";

const sandbox = createSandbox("auto");
afterAll(() => sandbox.cleanup());

describe("registry push", () => {
  it("names the pushed image under HOST/PREFIX", () => {
    expect(registryRef("localhost/sweu.eval.a__b-1", "reg.example:5000/team/")).toBe(
      "reg.example:5000/team/sweu.eval.a__b-1:latest",
    );
    expect(registryRef("sweu.env:abc", "r/p")).toBe("r/p/sweu.env:abc");
  });

  it("a refused push is a clear error and the local image stays", async () => {
    const image = await ensureBaseImage(sandbox);
    const port = await freePort(); // nothing listens here
    const r = await pushImage(sandbox, image, `127.0.0.1:${port}/sweu`);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/refused/);
    expect(r.error).toContain(`127.0.0.1:${port}`);
    expect(await sandbox.imageExists(image)).toBe(true);
  }, 600_000);
});
