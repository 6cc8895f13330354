import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFailure, retryOnce, transientNetworkFailure } from "../../src/builder/builder.ts";
import { failedInstruction, runsStep } from "../../src/builder/dockerfile.ts";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";

const plan = {
  install: ["pip install -q -r requirements.txt", 'echo "installing" && \\\n  exit 3'],
  refresh: ["pip install -q --no-deps -e ."],
};

describe("transientNetworkFailure: whether a later plan may pass the same instruction", () => {
  it("tells a reset, a timeout or a server error from a missing file or an unknown host", () => {
    expect(transientNetworkFailure("curl: (56) Recv failure: Connection reset by peer")).toBe(true);
    expect(transientNetworkFailure("curl: (28) Operation timed out after 20001 milliseconds")).toBe(true);
    expect(transientNetworkFailure("curl: (22) The requested URL returned error: 503")).toBe(true);
    expect(transientNetworkFailure("curl: (22) The requested URL returned error: 404")).toBe(false);
    expect(transientNetworkFailure("curl: (6) Could not resolve host: services.gradle.org")).toBe(false);
    // Refused: a mirror that is down or out of reach stays so (the bad-input e2e's mirror is on the host).
    expect(
      transientNetworkFailure("curl: (7) Failed to connect to 127.0.0.1 port 33081: Couldn't connect"),
    ).toBe(false);
    expect(transientNetworkFailure("E: Unable to locate package nosuchpkg")).toBe(false);
  });

  it("has the builder build the same plan once more after one, not twice", () => {
    const retried = new Set<string>();
    const reset = "curl: (56) Recv failure: Connection reset by peer\ngzip: stdin: unexpected end of file";
    expect(retryOnce("node/npm-strict/node-test", reset, retried)).toBe(true);
    expect(retryOnce("node/npm-strict/node-test", reset, retried)).toBe(false);
    expect(retryOnce("node/npm-loose/node-test", reset, retried)).toBe(true);
    expect(retryOnce("python/pip", "ERROR: No matching distribution found for nosuchpkg", retried)).toBe(
      false,
    );
  });
});

describe("failedInstruction: where an engine says a build stopped", () => {
  it("reads BuildKit's and the classic builder's errors, unescaping BuildKit's quotes", () => {
    const kit = [
      "#7 [4/6] RUN pip install -q -r requirements.txt",
      '#7 ERROR: process "/bin/bash -o pipefail -c pip install -q -r requirements.txt" did not complete successfully: exit code: 1',
      'ERROR: failed to solve: process "/bin/bash -o pipefail -c pip install -q -r requirements.txt" did not complete successfully: exit code: 1',
    ].join("\n");
    expect(failedInstruction(kit)).toBe("RUN pip install -q -r requirements.txt");
    expect(runsStep(failedInstruction(kit)!, plan.install)).toBe(true);
    const quoted =
      'ERROR: failed to solve: process "/bin/sh -c echo \\"a b\\" && false" did not complete successfully';
    expect(failedInstruction(quoted)).toBe('RUN echo "a b" && false');
    const classic = "The command '/bin/sh -c apt-get install -y nosuchpkg' returned a non-zero code: 100";
    expect(failedInstruction(classic)).toBe("RUN apt-get install -y nosuchpkg");
    expect(runsStep(failedInstruction(classic)!, plan.install)).toBe(false);
  });

  it("takes the last instruction started when no error names one (a timeout), and nothing from an empty log", () => {
    const log = [
      "STEP 1/3: FROM x",
      "STEP 2/3: RUN pip install -q --no-deps -e .",
      "[sweu] build timed out after 5000 ms",
    ];
    expect(failedInstruction(log.join("\n"))).toBe("RUN pip install -q --no-deps -e .");
    const f = buildFailure({ log: log.join("\n"), timedOut: true }, plan, 5000);
    expect(f).toMatchObject({
      reason: "install_failed",
      headline: 'build timed out after 5 s in install step "RUN pip install -q --no-deps -e ."',
    });
    expect(failedInstruction("Error: creating build container: pinging registry: connection refused")).toBe(
      undefined,
    );
    expect(buildFailure({ log: "Error: no such image", timedOut: false }, plan, 1000).reason).toBe(
      "image_build_failed",
    );
  });
});

describe("buildFailure on real podman/docker builds", () => {
  const sandbox = createSandbox("auto");
  let base = "";
  beforeAll(async () => {
    base = await ensureBaseImage(sandbox);
  }, 900_000);
  afterAll(() => sandbox.cleanup());

  const build = async (lines: string[]) => {
    const ctx = mkdtempSync(join(tmpdir(), "sweu-bf-"));
    const dockerfile = [`FROM ${base}`, 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', ...lines, ""].join(
      "\n",
    );
    writeFileSync(join(ctx, "Dockerfile"), dockerfile);
    const tag = `localhost/sweu-test-build-failure:${process.pid}`;
    const b = await sandbox.build({ tag, dockerfile, contextDir: ctx, timeoutMs: 120_000 });
    await sandbox.removeImage(tag).catch(() => {});
    expect(b.ok).toBe(false);
    return buildFailure(b, plan, 120_000);
  };

  it("names an install step's failure install_failed, and any other instruction's image_build_failed", async () => {
    // The install step spans two lines: the engine prints it joined.
    const install = await build(["RUN true", `RUN ${plan.install[1]}`, "RUN true"]);
    expect(install.reason).toBe("install_failed");
    expect(install.headline).toContain("install step");
    expect(install.headline).toContain("exit 3");
    // A toolchain step that fails before the install steps run.
    const toolchain = await build(["RUN exit 7", `RUN ${plan.install[0]}`]);
    expect(toolchain).toMatchObject({
      reason: "image_build_failed",
      headline: 'instruction "RUN exit 7" failed',
    });
    // A COPY of something the context does not hold.
    const copy = await build(["COPY no-such-dir /testbed", `RUN ${plan.install[0]}`]);
    expect(copy).toMatchObject({
      reason: "image_build_failed",
      headline: 'instruction "COPY no-such-dir /testbed" failed',
    });
  }, 300_000);
});
