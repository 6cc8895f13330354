/** Shared by container tests: one sandbox per test file and the base image, built once and cached by tag. */
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import { createSandbox } from "../../src/sandbox/index.ts";
import type { OciSandbox } from "../../src/sandbox/oci.ts";

export const sandbox = createSandbox("auto") as OciSandbox;

/** The project's base image (bootstrapped on first use, ~1 min; then reused by tag). */
export function baseImage(): Promise<string> {
  return ensureBaseImage(sandbox);
}

/** Run the engine CLI directly, for checks that must not go through the driver. */
export async function engine(...args: string[]): Promise<string> {
  return sandbox.cliOk(args);
}
