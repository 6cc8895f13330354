import { afterAll, describe, expect, it } from "vitest";
import { rootImage } from "../../src/sandbox/base-image.ts";
import { type Registry, startRegistry } from "../helpers/registry.ts";
import { engine, sandbox } from "./helpers.ts";

/**
 * The root filesystem comes from a registry when one answers: here a real registry on loopback (Debian's
 * docker-registry) serving the root image this machine already has, as a user's mirror would.
 */
let reg: Registry | undefined;
let pushed = "";
afterAll(async () => {
  if (pushed) await sandbox.removeImage(pushed).catch(() => {});
  await reg?.stop();
  await sandbox.cleanup();
});

const tls = sandbox.engine === "podman" ? ["--tls-verify=false"] : [];

describe("base image root from a registry", () => {
  it("is pulled from the configured reference when the local bootstrap is absent", async () => {
    reg = await startRegistry();
    const local = await rootImage(sandbox); // the root this machine has (bootstrapped or pulled earlier)
    pushed = `${reg.host}/mirror/debian:bookworm-slim`;
    await engine("tag", local, pushed);
    await engine("push", ...tls, pushed);
    await sandbox.removeImage(pushed);
    expect(await sandbox.imageExists(pushed)).toBe(false);
    expect(await reg.tags("mirror/debian")).toEqual(["bookworm-slim"]);

    const got = await rootImage(sandbox, {
      pullRef: pushed,
      rootTag: "localhost/sweu-test-absent-root:none",
    });
    expect(got).toBe(pushed);
    expect(await sandbox.imageExists(pushed)).toBe(true);
  }, 300_000);

  it("says no at once when the registry does not answer", async () => {
    const t0 = Date.now();
    expect(await sandbox.pullImage("127.0.0.1:1/none/debian:bookworm-slim", 20_000)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 60_000);
});
