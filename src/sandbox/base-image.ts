/**
 * Base-image provider. Every environment starts from one Debian image with the tools each build needs.
 * The root filesystem is pulled from a registry when one answers, otherwise bootstrapped offline with
 * debootstrap from Debian's package mirror and imported. A second layer (the recipe below) adds common
 * packages and apt sources; its tag carries a hash of the recipe, so a changed recipe makes a new image
 * and an unchanged one is reused.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { run } from "../util/exec.ts";
import { log } from "../util/log.ts";
import type { Sandbox } from "./sandbox.ts";

export type Distro = "bookworm";

/** What a sandbox needs beyond the seam to make a root image (the OCI driver has both). */
export interface RootImageSource {
  pullImage(ref: string, timeoutMs?: number): Promise<boolean>;
  importRootfs(dir: string, tag: string, changes?: readonly string[]): Promise<void>;
}

export interface BaseImageOptions {
  distro?: Distro;
  /** Where locks and the debootstrap scratch directory live. Default SWEU_CACHE_DIR or ~/.cache/swe-universe. */
  cacheDir?: string;
  /** Skip the registry pull (also SWEU_OFFLINE_BASE=1). */
  offline?: boolean;
  /**
   * The image to pull the root filesystem from (default SWEU_BASE_IMAGE, else the distribution's official
   * image, e.g. docker.io/library/debian:bookworm-slim): point it at a mirror or an internal registry.
   */
  pullRef?: string;
  /** Local tag of a bootstrapped root filesystem (tests use their own). */
  rootTag?: string;
  pullTimeoutMs?: number;
  /** Debian mirror for debootstrap and apt. */
  mirror?: string;
  buildTimeoutMs?: number;
}

interface DistroSpec {
  /** Registry image with the distribution's root filesystem. */
  pullRef: string;
  /** Local tag of the bootstrapped root filesystem. */
  rootTag: string;
  suite: string;
  /** Apt sources written by the recipe ({mirror} is replaced). */
  sources: string[];
  packages: string[];
}

const DISTROS: Record<Distro, DistroSpec> = {
  bookworm: {
    pullRef: "docker.io/library/debian:bookworm-slim",
    rootTag: "localhost/sweu-root:bookworm",
    suite: "bookworm",
    sources: [
      "deb {mirror}/debian bookworm main",
      "deb {mirror}/debian bookworm-updates main",
      "deb {mirror}/debian-security bookworm-security main",
      "deb {mirror}/debian bookworm-backports main",
    ],
    packages: ["bash", "ca-certificates", "coreutils", "curl", "git", "patch", "procps", "xz-utils", "unzip"],
  },
};

const IMPORT_CHANGES = [
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "ENV LANG=C.UTF-8",
  'CMD ["/bin/bash"]',
];

const DEFAULT_MIRROR = "http://deb.debian.org";

/**
 * Caches that running a project's tests writes into the tree, ignored by every git repository of the image
 * (a system-wide exclude file), so an agent's `git add -A` does not carry them into its patch. Tracked
 * files are not affected: ignore rules never hide what a repository tracks.
 */
export const TEST_CACHES = [
  "__pycache__/",
  "*.py[cod]",
  ".pytest_cache/",
  ".mypy_cache/",
  ".ruff_cache/",
  ".hypothesis/",
  ".cache/",
  ".nyc_output/",
  ".eslintcache",
  "*.tsbuildinfo",
];
export const SYSTEM_EXCLUDES = "/etc/gitignore-sweu";

/** The second-layer recipe, without its FROM line (the hash, hence the tag, does not depend on where the root came from). */
export function baseRecipe(distro: Distro = "bookworm", mirror = DEFAULT_MIRROR): string {
  const d = DISTROS[distro];
  const sources = d.sources.map((s) => s.replace("{mirror}", mirror)).join("\\n");
  return [
    "ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8",
    `RUN rm -f /etc/apt/sources.list.d/* && printf '${sources}\\n' > /etc/apt/sources.list \\`,
    " && apt-get update \\",
    ` && apt-get install -y --no-install-recommends ${d.packages.join(" ")} \\`,
    " && apt-get clean && rm -rf /var/lib/apt/lists/* \\",
    " && git config --system --add safe.directory '*' \\",
    ` && printf '%s\\n' ${TEST_CACHES.map((p) => `'${p}'`).join(" ")} > ${SYSTEM_EXCLUDES} \\`,
    ` && git config --system core.excludesFile ${SYSTEM_EXCLUDES}`,
    "",
  ].join("\n");
}

export function baseImageTag(distro: Distro = "bookworm", mirror = DEFAULT_MIRROR): string {
  const hash = createHash("sha256").update(baseRecipe(distro, mirror)).digest("hex").slice(0, 10);
  return `localhost/sweu-base:${distro}-${hash}`;
}

export function defaultCacheDir(): string {
  return process.env.SWEU_CACHE_DIR ?? join(homedir(), ".cache", "swe-universe");
}

// One bootstrap at a time within the process; a failed pull is not retried within the process.
const inFlight = new Map<string, Promise<string>>();
const pullFailed = new Set<string>();

export function ensureBaseImage(sandbox: Sandbox, opts: BaseImageOptions = {}): Promise<string> {
  const distro = opts.distro ?? "bookworm";
  const tag = baseImageTag(distro, opts.mirror ?? DEFAULT_MIRROR);
  const key = `${sandbox.engine}:${tag}`;
  let p = inFlight.get(key);
  if (!p) {
    p = makeBaseImage(sandbox, distro, tag, opts).finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function makeBaseImage(
  sandbox: Sandbox,
  distro: Distro,
  tag: string,
  opts: BaseImageOptions,
): Promise<string> {
  if (await sandbox.imageExists(tag)) return tag;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const release = await acquireLock(join(cacheDir, "locks"), `base-${distro}`);
  try {
    if (await sandbox.imageExists(tag)) return tag; // another process made it while we waited
    const mirror = opts.mirror ?? DEFAULT_MIRROR;
    const root = await rootImage(sandbox, { ...opts, distro, cacheDir, mirror });
    const started = Date.now();
    const r = await sandbox.build({
      tag,
      dockerfile: `FROM ${root}\n${baseRecipe(distro, mirror)}`,
      contextDir: mkdirP(join(cacheDir, "empty-context")),
      network: true,
      timeoutMs: opts.buildTimeoutMs ?? 15 * 60_000,
      labels: { "sweu.base": distro },
    });
    if (!r.ok)
      throw new Error(
        `base image ${tag} failed to build${r.timedOut ? " (timed out)" : ""}:\n${r.log.slice(-3000)}`,
      );
    log.info({ tag, ms: Date.now() - started }, "base image built");
    return tag;
  } finally {
    release();
  }
}

/**
 * Root filesystem image: the local bootstrap if present, else a registry pull (`pullRef`), else
 * debootstrap + import. Returns the image reference to build FROM.
 */
export async function rootImage(sandbox: Sandbox, opts: BaseImageOptions = {}): Promise<string> {
  const distro = opts.distro ?? "bookworm";
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const mirror = opts.mirror ?? DEFAULT_MIRROR;
  const d = DISTROS[distro];
  const rootTag = opts.rootTag ?? d.rootTag;
  const pullRef = opts.pullRef ?? (process.env.SWEU_BASE_IMAGE || d.pullRef);
  if (await sandbox.imageExists(rootTag)) return rootTag;
  if (!isRootSource(sandbox)) {
    throw new Error(`sandbox "${sandbox.engine}" cannot pull or import images; provide ${rootTag} yourself`);
  }
  const offline = opts.offline ?? process.env.SWEU_OFFLINE_BASE === "1";
  if (!offline && !pullFailed.has(pullRef)) {
    if (await sandbox.imageExists(pullRef)) return pullRef;
    if (await sandbox.pullImage(pullRef, opts.pullTimeoutMs ?? 20_000)) return pullRef;
    pullFailed.add(pullRef);
    log.info({ ref: pullRef }, "pull failed; bootstrapping the base image with debootstrap");
  }
  const dir = mkdtempSync(join(mkdirP(cacheDir), `rootfs-${distro}-`));
  try {
    const started = Date.now();
    const r = await run("debootstrap", ["--variant=minbase", d.suite, dir, `${mirror}/debian`], {
      timeoutMs: 20 * 60_000,
    });
    if (r.exitCode !== 0) {
      throw new Error(
        `debootstrap ${d.suite} failed (exit ${r.exitCode}): ${(r.stderr || r.stdout).slice(-2000)}`,
      );
    }
    // Package caches left by debootstrap only weigh the image down (~80 MB).
    for (const sub of ["var/cache/apt/archives", "var/lib/apt/lists"]) {
      rmSync(join(dir, sub), { recursive: true, force: true });
      mkdirP(join(dir, sub, "partial"));
    }
    await sandbox.importRootfs(dir, rootTag, IMPORT_CHANGES);
    log.info({ tag: rootTag, ms: Date.now() - started }, "root image bootstrapped");
    return rootTag;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new Error(
        "no base image can be pulled and debootstrap is not installed (apt-get install debootstrap)",
      );
    }
    throw e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function isRootSource(s: Sandbox): s is Sandbox & RootImageSource {
  const x = s as Partial<RootImageSource>;
  return typeof x.pullImage === "function" && typeof x.importRootfs === "function";
}

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Cross-process lock: a file created exclusively, holding the owner's pid. A lock whose owner is gone
 * or that is older than staleMs is taken over.
 */
export async function acquireLock(dir: string, name: string, staleMs = 60 * 60_000): Promise<() => void> {
  mkdirP(dir);
  const path = join(dir, `${name}.lock`);
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (lockIsStale(path, staleMs)) {
      rmSync(path, { force: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

function lockIsStale(path: string, staleMs: number): boolean {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    if (Date.now() - statSync(path).mtimeMs > staleMs) return true;
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - statSync(path).mtimeMs > 5_000;
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // ESRCH: owner gone. ENOENT: released meanwhile (retry at once).
    return (e as NodeJS.ErrnoException).code !== "EPERM";
  }
}
