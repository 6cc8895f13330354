import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireLock, baseImageTag, baseRecipe, ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { baseImage, sandbox } from "./helpers.ts";

let image = "";
let dir = "";
beforeAll(async () => {
  image = await baseImage();
  dir = mkdtempSync(join(tmpdir(), "sweu-base-"));
});
afterAll(async () => {
  await sandbox.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("base image", () => {
  it("is tagged by a hash of its recipe", () => {
    expect(image).toBe(baseImageTag());
    expect(image).toMatch(/^localhost\/sweu-base:bookworm-[0-9a-f]{10}$/);
    expect(baseImageTag("bookworm", "http://mirror.example")).not.toBe(image);
    expect(baseRecipe("bookworm", "http://mirror.example")).toContain(
      "http://mirror.example/debian bookworm-backports main",
    );
  });

  it("is reused once it exists, and concurrent callers share one build", async () => {
    const started = Date.now();
    const [a, b] = await Promise.all([ensureBaseImage(sandbox), ensureBaseImage(sandbox)]);
    expect(a).toBe(image);
    expect(b).toBe(image);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("carries the common tools and apt sources with backports", async () => {
    const c = await sandbox.start({ image });
    const r = await c.exec(
      "git --version && curl --version | head -1 && patch --version | head -1 && ps -p 1 -o comm= && " +
        "update-ca-certificates --help >/dev/null 2>&1; ls /etc/ssl/certs/ca-certificates.crt && " +
        "grep -c ^deb /etc/apt/sources.list && grep -q bookworm-backports /etc/apt/sources.list && " +
        "git config --system --get-all safe.directory",
    );
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toMatch(/git version 2\./);
    expect(r.output).toContain("/etc/ssl/certs/ca-certificates.crt\n4\n*\n");
    await c.remove();
  });
});

describe("importRootfs", () => {
  it("imports a directory tree as an image", async () => {
    const root = join(dir, "rootfs");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc", "sweu-imported"), "imported\n");
    const tag = `localhost/sweu-test-import:${process.pid}`;
    const built = `localhost/sweu-test-import-use:${process.pid}`;
    try {
      await sandbox.importRootfs(root, tag, ["ENV SWEU_IMPORTED=1"]);
      expect(await sandbox.imageExists(tag)).toBe(true);
      const r = await sandbox.build({
        tag: built,
        dockerfile: `FROM ${image}\nCOPY --from=${tag} /etc/sweu-imported /opt/sweu-imported\n`,
        contextDir: dir,
      });
      expect(r.ok, r.log).toBe(true);
      const c = await sandbox.start({ image: built });
      expect((await c.readFile("/opt/sweu-imported")).toString()).toBe("imported\n");
      await c.remove();
    } finally {
      await sandbox.removeImage(built);
      await sandbox.removeImage(tag);
    }
  });

  it("fails clearly for a directory that does not exist", async () => {
    await expect(sandbox.importRootfs(join(dir, "absent"), "localhost/sweu-test-absent:1")).rejects.toThrow(
      /import of/,
    );
  });
});

describe("acquireLock", () => {
  it("makes a second taker wait until the first releases", async () => {
    const locks = join(dir, "locks");
    const release = await acquireLock(locks, "x");
    let second = false;
    const p = acquireLock(locks, "x").then((r) => {
      second = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(second).toBe(false);
    release();
    (await p)();
    expect(second).toBe(true);
  });

  it("takes over a lock whose owner has died", async () => {
    const locks = join(dir, "locks-dead");
    const child = spawn("true");
    const deadPid = await new Promise<number>((resolve) => child.on("exit", () => resolve(child.pid ?? 0)));
    mkdirSync(locks, { recursive: true });
    writeFileSync(join(locks, "y.lock"), String(deadPid));
    const started = Date.now();
    const release = await acquireLock(locks, "y");
    expect(Date.now() - started).toBeLessThan(1_000);
    release();
  });
});
