import type { ReasonCode } from "../records/index.ts";
import { tail } from "../util/text.ts";
import { failedInstruction, runsStep } from "./dockerfile.ts";
import type { BuildPlan } from "./recipes/types.ts";

/** Naming a failed image build, and telling a transient network failure from a lasting one. */

export { tail };

/** Failures a download can have once and not again (curl's connect/transfer errors, server errors). */
export function transientNetworkFailure(log: string): boolean {
  return TRANSIENT_NETWORK.test(tail(log, 4000));
}
/** Whether a plan whose build failed is built once more: a transient network failure, not retried yet. */
export function retryOnce(plan: string, log: string, retried: Set<string>): boolean {
  if (!transientNetworkFailure(log) || retried.has(plan)) return false;
  retried.add(plan);
  return true;
}
const TRANSIENT_NETWORK =
  /curl: \((18|28|35|52|55|56)\)|returned error: 5\d\d|Temporary failure resolving|Connection (reset|timed out)|TLS handshake timeout|i\/o timeout|unexpected EOF/i;

/**
 * Name a failed image build by where it stopped: in one of the plan's install steps (or the instance
 * layer's refresh) → install_failed; anywhere else (base image, system packages, toolchain, COPY, a
 * Dockerfile or context the engine refuses, a toolchain image that cannot be made) → image_build_failed.
 * The headline says which instruction failed, or that the build timed out and where.
 */
export function buildFailure(
  b: { log: string; timedOut: boolean },
  plan: Pick<BuildPlan, "install" | "refresh">,
  timeoutMs: number,
): { reason: ReasonCode; headline: string; instruction?: string } {
  const at = failedInstruction(b.log);
  const install = at !== undefined && runsStep(at, [...plan.install, ...(plan.refresh ?? [])]);
  const reason: ReasonCode = install ? "install_failed" : "image_build_failed";
  const where = at ? `${install ? "install step" : "instruction"} ${JSON.stringify(tail(at, 300))}` : "";
  const headline = b.timedOut
    ? `build timed out after ${Math.round(timeoutMs / 1000)} s${where ? ` in ${where}` : ""}`
    : where
      ? `${where} failed`
      : "the engine refused the build before running any instruction";
  return { reason, headline, ...(at ? { instruction: at } : {}) };
}
