import { describe, expect, it } from "vitest";
import { createSandbox } from "../../src/sandbox/index.ts";
import { OciSandbox } from "../../src/sandbox/oci.ts";

describe("createSandbox", () => {
  it("makes OCI sandboxes for each engine key", () => {
    const p = createSandbox("podman", { runtime: "runc" }) as OciSandbox;
    expect(p).toBeInstanceOf(OciSandbox);
    expect(p.engine).toBe("podman");
    expect(p.args("ps")).toEqual(["--runtime", "runc", "ps"]);
    const d = createSandbox("docker") as OciSandbox;
    expect(d.engine).toBe("docker");
    expect(d.args("ps")).toEqual(["ps"]);
  });

  it("auto-detects an engine that answers here", async () => {
    const s = createSandbox("auto");
    expect(["docker", "podman"]).toContain(s.engine);
    expect(await s.imageExists("localhost/sweu-surely-absent:none")).toBe(false);
  });

  it("takes the executable's name as the engine when given", () => {
    expect(createSandbox("auto", { executable: "/usr/bin/podman" }).engine).toBe("podman");
  });

  it("rejects an unknown kind with a clear error", () => {
    expect(() => createSandbox("kubernetes-typo")).toThrow(
      /unknown sandbox kind "kubernetes-typo".*auto, docker, podman/,
    );
  });
});

describe("a missing engine", () => {
  it("fails with a clear message, not a spawn error", async () => {
    const s = createSandbox("podman", { executable: "/nonexistent/podman" });
    await expect(s.imageExists("x")).rejects.toThrow(/container engine "\/nonexistent\/podman" not found/);
  });
});
