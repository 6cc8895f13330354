/**
 * What differs between the container engines the OCI driver (oci.ts) speaks: one row per engine of flags
 * and templates, which engine this machine has, and the ulimits containers get by default.
 */
import { spawnSync } from "node:child_process";
import { hostLimit, onPath } from "./proc.ts";

export type EngineName = "docker" | "podman";

export interface EngineTable {
  /** Flags placed before the sub-command. */
  global(o: { runtime: string }): string[];
  /** Extra flags for `run` and `build`. */
  limits(o: { ulimits: string[] }): string[];
  /** `rm` flags that remove a running container without waiting. */
  forceRemove: string[];
  /** `info --format` template printing where images and containers are stored. */
  storageInfo: string;
  /** Extra `build` flags. */
  build: string[];
}

export const ENGINES: Record<EngineName, EngineTable> = {
  podman: {
    global: ({ runtime }) => (runtime ? ["--runtime", runtime] : []),
    limits: ({ ulimits }) => ulimits.flatMap((u) => ["--ulimit", u]),
    forceRemove: ["rm", "-f", "-t", "0"],
    storageInfo: "{{.Store.GraphRoot}}",
    // The OCI image format has no SHELL: podman would run every RUN under /bin/sh without pipefail, where
    // docker runs the Dockerfile's `SHELL ["/bin/bash", "-o", "pipefail", "-c"]`. Docker format keeps both alike.
    build: ["--format", "docker"],
  },
  docker: {
    global: () => [],
    limits: () => [],
    forceRemove: ["rm", "-f"],
    storageInfo: "{{.DockerRootDir}}",
    build: [],
  },
};

export function defaultUlimits(): string[] {
  const env = process.env.SWEU_OCI_ULIMITS;
  if (env !== undefined) return env.split(",").filter(Boolean);
  const cap = (want: number, host: number | undefined) => Math.min(want, host ?? want);
  const nofile = cap(16384, hostLimit("Max open files"));
  const nproc = cap(4096, hostLimit("Max processes"));
  return [`nofile=${nofile}:${nofile}`, `nproc=${nproc}:${nproc}`];
}

let detected: EngineName | undefined;

/** docker when `docker info` answers (and is not podman's docker shim), else podman. Cached per process. */
export function detectEngine(): EngineName {
  if (detected) return detected;
  detected = "podman";
  if (onPath("docker")) {
    const r = spawnSync("docker", ["--version"], { encoding: "utf8", timeout: 10_000 });
    const shim = /podman/i.test(`${r.stdout}`);
    if (!shim && spawnSync("docker", ["info"], { stdio: "ignore", timeout: 10_000 }).status === 0)
      detected = "docker";
  }
  return detected;
}
