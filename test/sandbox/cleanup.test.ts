import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { OciSandbox } from "../../src/sandbox/oci.ts";
import { SESSION, SESSION_LABEL } from "../../src/sandbox/session.ts";
import { baseImage, engine } from "./helpers.ts";

let image = "";
beforeAll(async () => {
  image = await baseImage();
});

const bySession = async (session: string) =>
  (await engine("ps", "-a", "-q", "--filter", `label=${SESSION_LABEL}=${session}`))
    .split(/\s+/)
    .filter(Boolean);

describe("cleanup", () => {
  it("removes every container this process started, including ones the driver lost track of", async () => {
    const sb = new OciSandbox();
    try {
      await sb.start({ image });
      await sb.start({ image });
      // A container carrying this process's session label but started outside the driver.
      const ulimits = sb.engine === "podman" ? sb.ulimits.flatMap((u) => ["--ulimit", u]) : [];
      const label = `${SESSION_LABEL}=${SESSION}`;
      await engine("run", "-d", ...ulimits, "--label", label, "--entrypoint", "sleep", image, "300");
      expect(await bySession(SESSION)).toHaveLength(3);
    } finally {
      await sb.cleanup();
    }
    expect(await bySession(SESSION)).toEqual([]);
    await sb.cleanup(); // nothing left: still fine
  });

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    it(`removes the containers of a process stopped by ${signal} and exits ${code}`, async () => {
      const child = spawn(
        process.execPath,
        [join(import.meta.dirname, "fixtures", "start-and-wait.ts"), image],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const session = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.includes("\n")) resolve(out.trim());
        });
        child.on("exit", (c) => reject(new Error(`child exited early (${c})`)));
      });
      expect(await bySession(session)).toHaveLength(2);
      const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      child.kill(signal);
      expect(await exited).toBe(code);
      expect(await bySession(session)).toEqual([]);
    });
  }
});
