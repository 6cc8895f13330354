import { afterAll, describe, expect, it } from "vitest";
import { insecureRegistry, pushImage, registryRef } from "../../src/run/push.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import { startRegistry } from "../helpers/registry.ts";
import { freePort } from "../queue/redis.ts";

const sandbox = createSandbox("auto");
afterAll(() => sandbox.cleanup());

describe("registry push", () => {
  it("names the pushed image under HOST/PREFIX", () => {
    expect(registryRef("localhost/sweu.eval.a__b-1", "reg.example:5000/team/")).toBe(
      "reg.example:5000/team/sweu.eval.a__b-1:latest",
    );
    expect(registryRef("sweu.env:abc", "r/p")).toBe("r/p/sweu.env:abc");
    expect(insecureRegistry("127.0.0.1:5000/x")).toBe(true);
    expect(insecureRegistry("localhost:5000")).toBe(true);
    expect(insecureRegistry("reg.example:5000/team")).toBe(false);
  });

  it("pushes to a real registry, retrying a refused push until the registry comes up", async () => {
    const image = await ensureBaseImage(sandbox);
    const port = await freePort();
    const retries: string[] = [];
    let registry: Promise<Awaited<ReturnType<typeof startRegistry>>> | undefined;
    const pushed = pushImage(sandbox, image, `127.0.0.1:${port}/sweu`, {
      attempts: 4,
      backoffMs: 1000,
      onRetry: (_n, err) => {
        retries.push(err);
        // The registry comes up while the pusher waits after its first refusal.
        registry ??= startRegistry(port);
      },
    });
    const r = await pushed;
    try {
      expect(r.ok, r.error).toBe(true);
      expect(r.attempts).toBeGreaterThanOrEqual(2);
      expect(retries[0]).toContain(`127.0.0.1:${port}`);
      const name = `sweu/${image.split("/").pop()!.split(":")[0]}`;
      const tag = image.includes(":") ? image.split(":").pop()! : "latest";
      expect(await (await registry!).tags(name)).toContain(tag);
      expect(await sandbox.imageExists(image)).toBe(true);
    } finally {
      await (await registry)?.stop();
    }
  }, 600_000);

  it("a refused push is a clear error and the local image stays", async () => {
    const image = await ensureBaseImage(sandbox);
    const port = await freePort(); // nothing listens here
    const r = await pushImage(sandbox, image, `127.0.0.1:${port}/sweu`, { attempts: 1 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/refused after 1 attempt/);
    expect(r.error).toContain(`127.0.0.1:${port}`);
    expect(await sandbox.imageExists(image)).toBe(true);
  }, 600_000);
});
