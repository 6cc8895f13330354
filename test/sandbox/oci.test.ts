import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Container } from "../../src/sandbox/sandbox.ts";
import { SESSION, SESSION_LABEL } from "../../src/sandbox/session.ts";
import { baseImage, engine, sandbox } from "./helpers.ts";

const uniq = randomBytes(3).toString("hex");
let image = "";
let ctx = "";
/** One offline container shared by the tests that do not care about a fresh one. */
let box: Container;

beforeAll(async () => {
  image = await baseImage();
  ctx = mkdtempSync(join(tmpdir(), "sweu-oci-"));
  box = await sandbox.start({
    image,
    limits: { memory: "256m", pids: 128 },
    env: { GREETING: "from-spec" },
    workdir: "/srv",
    labels: { "sweu.test": uniq },
  });
});

afterAll(async () => {
  await sandbox.cleanup();
  rmSync(ctx, { recursive: true, force: true });
});

describe("build", () => {
  it("builds an image from the base with the context and labels", async () => {
    writeFileSync(join(ctx, "input.txt"), "from-context\n");
    const tag = `localhost/sweu-test-build:${uniq}`;
    const r = await sandbox.build({
      tag,
      dockerfile: `FROM ${image}\nCOPY input.txt /opt/input.txt\nRUN echo built-ok > /opt/built\n`,
      contextDir: ctx,
      network: false,
      labels: { "sweu.test": uniq },
      timeoutMs: 120_000,
    });
    try {
      expect(r.ok, r.log).toBe(true);
      expect(r.timedOut).toBe(false);
      expect(await sandbox.imageExists(tag)).toBe(true);
      expect(await sandbox.imageSize(tag)).toBeGreaterThan(10_000_000);
      expect(
        (await engine("image", "inspect", "--format", '{{index .Labels "sweu.test"}}', tag)).trim(),
      ).toBe(uniq);
      const c = await sandbox.start({ image: tag });
      const out = await c.exec("cat /opt/input.txt /opt/built");
      expect(out).toMatchObject({ exitCode: 0, output: "from-context\nbuilt-ok\n" });
      await c.remove();
    } finally {
      await sandbox.removeImage(tag);
    }
    expect(await sandbox.imageExists(tag)).toBe(false);
    expect(await sandbox.imageSize(tag)).toBeUndefined();
  });

  it("reports a failing Dockerfile with ok=false and its log", async () => {
    const r = await sandbox.build({
      tag: `localhost/sweu-test-fail:${uniq}`,
      dockerfile: `FROM ${image}\nRUN echo about-to-fail-${uniq} && exit 3\n`,
      contextDir: ctx,
    });
    expect(r.ok).toBe(false);
    expect(r.timedOut).toBe(false);
    expect(r.log).toContain(`about-to-fail-${uniq}`);
    expect(await sandbox.imageExists(`localhost/sweu-test-fail:${uniq}`)).toBe(false);
  });

  it("runs RUN steps under the Dockerfile's SHELL on every engine (bash, pipefail)", async () => {
    const shell = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]';
    const ok = await sandbox.build({
      tag: `localhost/sweu-test-shell:${uniq}`,
      dockerfile: `FROM ${image}\n${shell}\nRUN [[ -n "$BASH_VERSION" ]] && echo "shell-is-bash-${uniq}"\n`,
      contextDir: ctx,
    });
    expect(ok.ok, ok.log).toBe(true);
    expect(ok.log).not.toMatch(/SHELL is not supported/);
    await sandbox.removeImage(`localhost/sweu-test-shell:${uniq}`);
    const piped = await sandbox.build({
      tag: `localhost/sweu-test-pipefail:${uniq}`,
      dockerfile: `FROM ${image}\n${shell}\nRUN false | cat\n`,
      contextDir: ctx,
    });
    expect(piped.ok).toBe(false);
  });

  it("kills a build that runs past its timeout and leaves no step running", async () => {
    const marker = `sleep 3${Math.floor(Math.random() * 90 + 10)}`;
    const r = await sandbox.build({
      tag: `localhost/sweu-test-slow:${uniq}`,
      dockerfile: `FROM ${image}\nRUN ${marker}\n`,
      contextDir: ctx,
      timeoutMs: 3_000,
    });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect(r.durationMs).toBeLessThan(30_000);
    expect(r.log).toContain("timed out");
    const ps = await engine("ps", "-a", "--external", "--format", "{{.Names}}");
    expect(ps).not.toContain(`sweu-test-slow`);
    const { execFileSync } = await import("node:child_process");
    const procs = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    expect(procs.split("\n").filter((l) => l.trim() === marker)).toEqual([]);
  });
});

describe("exec", () => {
  it("runs bash with stdout and stderr interleaved, env and workdir from the spec", async () => {
    const r = await box.exec(
      'echo one; echo two >&2; echo "$GREETING"; pwd; shopt -q login_shell && echo login',
    );
    expect(r).toMatchObject({ exitCode: 0, output: "one\ntwo\nfrom-spec\n/srv\nlogin\n", timedOut: false });
  });

  it("returns non-zero exit codes", async () => {
    expect((await box.exec("exit 7")).exitCode).toBe(7);
    expect((await box.exec("false")).exitCode).toBe(1);
    expect((await box.exec("no-such-command-xyz")).exitCode).toBe(127);
  });

  it("takes per-exec env and workdir", async () => {
    const r = await box.exec('echo "$A|$GREETING"; pwd', { env: { A: "x y" }, workdir: "/tmp" });
    expect(r.output).toBe("x y|from-spec\n/tmp\n");
  });

  it("kills a script that outlives its timeout, including processes that left its group", async () => {
    const r = await box.exec("echo started; setsid sleep 301 & sleep 302; echo never", { timeoutMs: 1_500 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toContain("started");
    expect(r.output).not.toContain("never");
    expect(r.durationMs).toBeLessThan(10_000);
    const ps = await box.exec("ps -eo args");
    expect(ps.output).not.toMatch(/sleep 30[12]/);
  });

  it("does not report a fast exit 137 as a timeout", async () => {
    const r = await box.exec("kill -9 $$", { timeoutMs: 20_000 });
    expect(r).toMatchObject({ exitCode: 137, timedOut: false });
  });
});

describe("limits and network", () => {
  it("passes memory and pids limits to the engine", async () => {
    const mem = (await engine("inspect", "--format", "{{.HostConfig.Memory}}", box.id)).trim();
    const pids = (await engine("inspect", "--format", "{{.HostConfig.PidsLimit}}", box.id)).trim();
    expect(mem).toBe(String(256 * 1024 * 1024));
    expect(pids).toBe("128");
    // And the kernel enforces them (cgroup v1 or v2 file layout).
    const r = await box.exec(
      "cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max",
    );
    expect(r.output.split("\n").slice(0, 2)).toEqual([String(256 * 1024 * 1024), "128"]);
  });

  it("has no network by default and a working one when asked", async () => {
    const probe =
      "getent hosts deb.debian.org && echo resolved; (exec 3<>/dev/tcp/1.1.1.1/80) 2>/dev/null && echo connected; exit 0";
    const off = await box.exec(probe, { timeoutMs: 20_000 });
    expect(off.output).not.toContain("resolved");
    expect(off.output).not.toContain("connected");
    expect((await box.exec("ls /sys/class/net")).output.trim()).toBe("lo");
    const online = await sandbox.start({ image, network: true });
    const on = await online.exec("getent hosts deb.debian.org && echo resolved", { timeoutMs: 20_000 });
    expect(on.output).toContain("resolved");
    await online.remove();
  });
});

describe("files", () => {
  it("round-trips binary content and sets the mode", async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const data = Buffer.concat([all, randomBytes(1 << 20), all]);
    await box.writeFile("/data/deep/dir/blob.bin", data, 0o750);
    const back = await box.readFile("/data/deep/dir/blob.bin");
    expect(back.equals(data)).toBe(true);
    expect((await box.exec("stat -c %a /data/deep/dir/blob.bin")).output.trim()).toBe("750");
    await box.writeFile("/data/text.txt", "héllo\n");
    expect((await box.readFile("/data/text.txt")).toString()).toBe("héllo\n");
    await expect(box.readFile("/data/missing")).rejects.toThrow(/missing/);
  });

  it("copies a host directory and a file in", async () => {
    const src = join(ctx, "tree");
    mkdirSync(join(src, "sub", "deeper"), { recursive: true });
    writeFileSync(join(src, "top.txt"), "top");
    writeFileSync(join(src, "sub", "deeper", "leaf.txt"), "leaf");
    await box.copyIn(src, "/work/copy");
    await box.copyIn(src, "/work/copy"); // into an existing directory: merged, not nested
    const r = await box.exec("cd /work/copy && find . -type f | sort && cat sub/deeper/leaf.txt");
    expect(r.output).toBe("./sub/deeper/leaf.txt\n./top.txt\nleaf");
    await box.copyIn(join(src, "top.txt"), "/work/single/renamed.txt");
    expect((await box.readFile("/work/single/renamed.txt")).toString()).toBe("top");
  });
});

describe("lifecycle", () => {
  it("commits a container to an image", async () => {
    const c = await sandbox.start({ image });
    const tag = `localhost/sweu-test-commit:${uniq}`;
    try {
      await c.exec(`echo ${uniq} > /committed`);
      await c.commit(tag);
      expect(await sandbox.imageExists(tag)).toBe(true);
      const d = await sandbox.start({ image: tag });
      expect((await d.exec("cat /committed")).output).toBe(`${uniq}\n`);
      await d.remove();
    } finally {
      await c.remove();
      await sandbox.removeImage(tag);
    }
  });

  it("removes a container, twice without error, and refuses to exec afterwards", async () => {
    const c = await sandbox.start({ image });
    await c.remove();
    await c.remove();
    const left = await engine("ps", "-a", "-q", "--filter", `name=${c.id}`);
    expect(left.trim()).toBe("");
    await expect(c.exec("true")).rejects.toThrow(/removed/);
  });

  it("fails to start from a missing image and leaves nothing behind", async () => {
    const before = await engine("ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`);
    await expect(sandbox.start({ image: `localhost/sweu-no-such-image:${uniq}` })).rejects.toThrow();
    const after = await engine("ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${SESSION}`);
    expect(after).toBe(before);
  });
});
