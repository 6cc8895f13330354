import { existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseCargo } from "../../harness/parsers/cargo.ts";
import { parseNextest } from "../../harness/parsers/nextest.ts";
import { run } from "../../util/exec.ts";
import type { RepoView } from "../view.ts";
import { ownerDir, rootOf } from "./layout.ts";
import {
  editRunner,
  nextestInstallStep,
  nextestRelease,
  nextestTestCommand,
  runnerOf,
  usesNextest,
} from "./nextest.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/**
 * Cargo. Toolchains, best first: rustup from static.rust-lang.org (the channel the repository pins, else
 * stable); the host's own rustup toolchain turned into a local image and copied in (machines that reach no
 * Rust server); Debian's rustc-web/cargo-web (a recent stable kept current by Debian security); Debian's
 * rustc 1.63 as the last resort for old crates. Dependencies are fetched and the tests compiled at image
 * build time; evaluation runs `cargo test --offline` on the PR's test targets.
 *
 * cargo-nextest: where the repository runs its tests with it (.config/nextest.toml, or `cargo nextest` in a
 * CI workflow, Makefile or justfile), a `rust/nextest` plan comes first. It installs a pinned cargo-nextest
 * that compiles on the plan's toolchain in a toolchain layer (before the repository is copied in, so every
 * environment on that toolchain shares the multi-minute `cargo install`), runs `cargo nextest run` on the
 * PR's test targets, and the doc tests, which nextest cannot run, with `cargo test --doc` when the whole
 * workspace is tested (results named "doctest:…" as in the cargo plans). Where cargo-nextest cannot be
 * installed (no crates.io, a toolchain older than any release supports) the plan fails with a message saying
 * so and the `cargo test` plans follow. Test names are the same as `cargo test`'s (see parsers/nextest.ts).
 */

const TRIPLE = "x86_64-unknown-linux-gnu";
const PATH_TAIL = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const APT = ["build-essential", "pkg-config", "libssl-dev"];
const DEBIAN_OLD = "1.63";

/** The channel a repository pins: rust-toolchain.toml's `channel`, or a legacy rust-toolchain file. */
export function rustChannel(view: RepoView): string | undefined {
  const text = view.read("rust-toolchain.toml") ?? view.read("rust-toolchain");
  if (!text) return undefined;
  const toml = /^\s*channel\s*=\s*["']([^"']+)["']/m.exec(text)?.[1];
  if (toml) return toml.trim();
  if (/^\s*\[/.test(text)) return undefined;
  const first = text.trim().split(/\s+/)[0];
  return first && /^[\w.-]+$/.test(first) ? first : undefined;
}

/** `rust-version` of the root package or workspace ("1.70"), if declared. */
export function rustVersion(view: RepoView): string | undefined {
  return /^\s*rust-version\s*=\s*["'](\d+\.\d+(?:\.\d+)?)["']/m.exec(view.read("Cargo.toml") ?? "")?.[1];
}

function minor(v: string): number {
  return Number(v.split(".")[1] ?? 0);
}

/** Lockfile format 4 needs cargo ≥ 1.78. */
function lockVersion(view: RepoView): number {
  return Number(/^version\s*=\s*(\d+)/m.exec(view.read("Cargo.lock") ?? "")?.[1] ?? 3);
}

/** Cargo package names by manifest directory ("" = root). Virtual manifests (workspace only) are left out. */
export function cargoPackages(view: RepoView): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of view.files) {
    if (f !== "Cargo.toml" && !f.endsWith("/Cargo.toml")) continue;
    const text = view.read(f);
    if (!text) continue;
    const pkg = /^\[package\]\s*$([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(text)?.[1];
    const name = pkg && /^\s*name\s*=\s*["']([^"']+)["']/m.exec(pkg)?.[1];
    if (name) out.set(ownerDir(f), name);
  }
  return out;
}

export function isRustTestPath(path: string): boolean {
  return path.endsWith(".rs");
}

/**
 * Cargo selection for the PR's test files: `--test <name>` for tests/<name>.rs or tests/<name>/main.rs,
 * `--lib`/`--bins` for unit tests in src/, `--tests` when a helper or an unknown layout is touched,
 * `-p <package>` outside a single root package. Empty when nothing can be told (run everything).
 */
export function cargoSelection(view: RepoView, testFiles: string[]): string[] {
  const packages = cargoPackages(view);
  const roots = [...packages.keys()];
  const targets = new Map<string, Set<string>>();
  for (const f of testFiles.filter(isRustTestPath)) {
    const root = rootOf(ownerDir(f), roots);
    if (root === undefined) continue;
    const rel = root ? f.slice(root.length + 1) : f;
    const set = targets.get(root) ?? new Set<string>();
    const integ = /^tests\/([\w-]+)(?:\.rs|\/main\.rs)$/.exec(rel);
    const manifest = view.read(root ? `${root}/Cargo.toml` : "Cargo.toml") ?? "";
    if (integ && !/^\[\[test\]\]/m.test(manifest)) set.add(`--test ${q(integ[1]!)}`);
    else if (/^src\/(main\.rs|bin\/)/.test(rel)) set.add("--bins");
    else if (rel.startsWith("src/"))
      set.add(view.has(root ? `${root}/src/lib.rs` : "src/lib.rs") ? "--lib" : "--bins");
    else if (/^(benches|examples)\//.test(rel)) continue;
    else set.add("--tests");
    targets.set(root, set);
  }
  if (!targets.size) return [];
  const pkgArgs = (rs: string[]) => rs.map((r) => `-p ${q(packages.get(r)!)}`);
  if (targets.size === 1) {
    const [root, set] = [...targets.entries()][0]!;
    const sel = set.has("--tests") ? ["--tests"] : [...set];
    const needsP = root !== "" || view.read("Cargo.toml")?.includes("[workspace]");
    return [...(needsP ? pkgArgs([root]) : []), ...sel];
  }
  return [...pkgArgs([...targets.keys()]), "--tests"];
}

export function cargoTestCommand(selection: string[], features: string[] = []): string {
  const scope = selection.length ? selection : ["--workspace"];
  return ["cargo test --offline --no-fail-fast", ...features, ...scope].join(" ");
}

/**
 * The cargo-nextest release for a toolchain version as the plans name it ("stable", "1.80.0", "nightly",
 * "nightly-2024-01-01"); undefined when no release compiles on it or the version is not known.
 */
export function nextestVersion(rust: string): string | undefined {
  if (/^(stable|beta|nightly)$/.test(rust)) return nextestRelease(Number.POSITIVE_INFINITY);
  const dated = /^(?:nightly|beta)-(\d{4}-\d{2}-\d{2})$/.exec(rust)?.[1];
  const m = dated ? contemporaryRust(`${dated}T00:00:00Z`) : /^1\.\d+/.exec(rust)?.[0];
  return m ? nextestRelease(minor(m)) : undefined;
}

/** The host's rustup toolchain directory for a channel (stable when none), and its exact version. */
export async function hostToolchain(
  channel: string | undefined,
): Promise<{ dir: string; version: string } | undefined> {
  const home = process.env.RUSTUP_HOME ?? join(homedir(), ".rustup");
  const name = channel && channel !== "stable" ? channel : "stable";
  const dir = join(home, "toolchains", `${name}-${TRIPLE}`);
  if (!existsSync(join(dir, "bin", "cargo"))) return undefined;
  const r = await run(join(dir, "bin", "rustc"), ["--version"]).catch(() => undefined);
  const version = r?.exitCode === 0 ? /rustc (\S+)/.exec(r.stdout)?.[1] : undefined;
  return version ? { dir: realpathSync(dir), version } : undefined;
}

interface Toolchain {
  name: string;
  plan: Pick<BuildPlan, "apt" | "toolchain" | "dockerSteps" | "images" | "env">;
  version: string;
}

function rustupToolchain(channel: string): Toolchain {
  const server = (process.env.RUSTUP_DIST_SERVER ?? "https://static.rust-lang.org").replace(/\/$/, "");
  return {
    name: "rustup",
    version: channel,
    plan: {
      apt: APT,
      toolchain: [
        `export RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo && curl --proto '=https' -fsSL --connect-timeout 20 ${q(`${server}/rustup/dist/${TRIPLE}/rustup-init`)} -o /tmp/rustup-init && chmod +x /tmp/rustup-init && /tmp/rustup-init -y -q --no-modify-path --profile minimal --default-toolchain ${q(channel)} && rm /tmp/rustup-init && /usr/local/cargo/bin/rustc --version`,
      ],
      env: {
        RUSTUP_HOME: "/usr/local/rustup",
        CARGO_HOME: "/usr/local/cargo",
        ...(process.env.RUSTUP_DIST_SERVER ? { RUSTUP_DIST_SERVER: server } : {}),
        PATH: `/usr/local/cargo/bin:${PATH_TAIL}`,
      },
    },
  };
}

function hostImageToolchain(host: { dir: string; version: string }): Toolchain {
  const tag = `localhost/sweu-toolchain-rust:${host.version.replace(/[^\w.-]/g, "_")}`;
  return {
    name: "host-toolchain",
    version: host.version,
    plan: {
      apt: APT,
      images: [
        {
          tag,
          dockerfile: "FROM scratch\nCOPY src /opt/rust\n",
          source: host.dir,
          exclude: ["share/doc", "share/man"],
        },
      ],
      dockerSteps: [`COPY --from=${tag} /opt/rust /opt/rust`],
      toolchain: ["/opt/rust/bin/rustc --version && /opt/rust/bin/cargo --version"],
      env: { CARGO_HOME: "/usr/local/cargo", PATH: `/opt/rust/bin:/usr/local/cargo/bin:${PATH_TAIL}` },
    },
  };
}

function debianToolchain(web: boolean): Toolchain {
  return {
    name: web ? "debian-rustc-web" : `debian-${DEBIAN_OLD}`,
    version: web ? "debian rustc-web" : DEBIAN_OLD,
    plan: {
      apt: [...APT, ...(web ? ["rustc-web", "cargo-web"] : ["rustc", "cargo"])],
      toolchain: ["rustc --version && cargo --version"],
      env: { CARGO_HOME: "/usr/local/cargo", PATH: `/usr/local/cargo/bin:${PATH_TAIL}` },
    },
  };
}

/**
 * The stable Rust current when a PR was opened: releases come every six weeks since 1.0 (2015-05-15). Old
 * tests often pin compiler output that later releases changed (Debug of '\0', lint sets): the toolchain of
 * their day reproduces them. Undefined for a date before 1.0 or unreadable.
 */
export function contemporaryRust(createdAt: string | undefined): string | undefined {
  const t = Date.parse(createdAt ?? "");
  if (Number.isNaN(t)) return undefined;
  const minorNow = Math.floor((t - Date.parse("2015-05-15T00:00:00Z")) / (42 * 86_400_000));
  return minorNow >= 0 ? `1.${minorNow}` : undefined;
}

let gitIndex: Promise<boolean> | undefined;
/**
 * Cargo before 1.68 reads crates.io's index from github.com (git); later ones use the sparse index on
 * index.crates.io. Probed once from the host: where github.com cannot be reached, old toolchains cannot fetch.
 */
export function gitIndexReachable(): Promise<boolean> {
  gitIndex ??= fetch("https://github.com/rust-lang/crates.io-index/info/refs?service=git-upload-pack", {
    signal: AbortSignal.timeout(8_000),
  }).then(
    (r) => r.ok,
    () => false,
  );
  return gitIndex;
}

async function plans({
  view,
  testFiles,
  task,
}: RecipeContext): Promise<BuildPlan[] | { unavailable: string }> {
  if (!view.has("Cargo.toml")) return { unavailable: "no Cargo.toml at the repository root" };
  const channel = rustChannel(view);
  const pinned = channel && channel !== "stable" ? channel : undefined;
  const nightly = !!pinned && /^nightly|^beta/.test(pinned);
  const need = rustVersion(view) ?? (/^\d+\.\d+/.test(pinned ?? "") ? pinned : undefined);
  const toolchains: Toolchain[] = [rustupToolchain(pinned ?? "stable")];
  const then = pinned ? undefined : contemporaryRust(task.created_at);
  // Second choice for unpinned crates: the stable of the PR's day, when it satisfies rust-version.
  const fetchable = !!then && (minor(then) >= 68 || (await gitIndexReachable()));
  if (
    then &&
    fetchable &&
    (!need || minor(then) >= minor(need)) &&
    (lockVersion(view) < 4 || minor(then) >= 78)
  )
    toolchains.push({ ...rustupToolchain(then), name: `rustup-${then}` });
  const host = await hostToolchain(pinned);
  if (host) toolchains.push(hostImageToolchain(host));
  if (!nightly) toolchains.push(debianToolchain(true));
  const oldOk = !need || minor(need) <= minor(DEBIAN_OLD);
  if (!nightly && oldOk && lockVersion(view) < 4 && (await gitIndexReachable()))
    toolchains.push(debianToolchain(false));
  const selection = cargoSelection(view, testFiles);
  const test = cargoTestCommand(selection);
  // The base commit may lack the PR's new test targets: compile every target once, dependencies above all.
  const precompile = "cargo test --no-run --workspace";
  const plan = (t: Toolchain): BuildPlan => ({
    name: `rust/${t.name}`,
    language: "rust" as const,
    ...t.plan,
    env: { ...t.plan.env, CARGO_TERM_COLOR: "never", CARGO_INCREMENTAL: "0", RUST_BACKTRACE: "0" },
    install: ["cargo fetch", precompile],
    // On a shared environment (same manifests, another commit): recompile the swapped-in source, best effort.
    refresh: [`${precompile} >/dev/null 2>&1 || true`],
    test,
    parser: "cargo",
    toolchainVersions: { rust: t.version, source: t.name },
  });
  const cargoPlans = toolchains.map(plan);
  if (!usesNextest(view)) return cargoPlans;
  // nextest on the first toolchain some release compiles on; doc tests when the whole workspace is tested.
  const withNextest = toolchains.find((t) => t.name.startsWith("rustup") || t.name === "host-toolchain");
  const version = withNextest && nextestVersion(withNextest.version);
  if (!withNextest || !version) return cargoPlans;
  const base = plan(withNextest);
  const hasLib = view.files.some((f) => f === "src/lib.rs" || f.endsWith("/src/lib.rs"));
  const nextest: BuildPlan = {
    ...base,
    name: "rust/nextest",
    toolchain: [...base.toolchain, nextestInstallStep(base.env, version)],
    install: ["cargo fetch", precompile, "cargo nextest list --workspace >/dev/null"],
    test: nextestTestCommand(selection, !selection.length && hasLib),
    parser: "nextest",
    toolchainVersions: { ...base.toolchainVersions, nextest: version },
  };
  return [nextest, ...cargoPlans];
}

/** Read a failure: features a target requires → build and test with --all-features; a bad target → --tests. */
function repair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  if (
    /requires the features?|required-features|--features/.test(failure) &&
    !plan.test.includes("--all-features")
  )
    return {
      ...plan,
      name: `${plan.name}+all-features`,
      install: plan.install.map((s) =>
        s
          .replace("cargo test --no-run", "cargo test --no-run --all-features")
          .replace("cargo nextest list", "cargo nextest list --all-features"),
      ),
      test: plan.test.replaceAll("--no-fail-fast", "--no-fail-fast --all-features"),
    };
  if (
    /no (?:test|library|bin) target(?:s)? (?:named|found)/.test(failure) &&
    !runnerOf(plan).endsWith("--tests")
  ) {
    const test = editRunner(
      plan,
      (cmd) => `${cmd.replace(/ (--test \S+|--lib|--bins|--tests)/g, "")} --tests`,
    );
    return { ...plan, name: `${plan.name}+all-tests`, test };
  }
  // Tests that fail with the fix in place (sandbox limits, compiler output of another release) are skipped,
  // once: a skipped test can be neither FAIL_TO_PASS nor PASS_TO_PASS, so no unsolvable task slips through.
  const nextest = plan.parser === "nextest";
  if (!plan.test.includes(nextest ? " -E " : " -- ")) {
    const failed = (nextest ? parseNextest : parseCargo)(failure)
      .filter((t) => t.status === "FAILED" && !/^(binary|build|doctest):/.test(t.name))
      .map((t) => t.name);
    const names = [...new Set(failed)];
    if (names.length && names.length <= 20 && names.every((n) => /^[\w:]+$/.test(n)))
      return {
        ...plan,
        name: `${plan.name}+skip-env-failures`,
        test: nextest
          ? editRunner(
              plan,
              (cmd) => `${cmd} -E ${q(`not (${names.map((n) => `test(=${n})`).join(" | ")})`)}`,
            )
          : `${plan.test} -- --exact ${names.map((n) => `--skip ${n}`).join(" ")}`,
      };
  }
  return undefined;
}

export const rust: Recipe = {
  name: "rust",
  languages: ["rust"],
  manifests:
    /(^|\/)(Cargo\.toml|rust-toolchain(\.toml)?|Makefile|[Jj]ustfile|\.github\/workflows\/[^/]+\.ya?ml)$/,
  dependencyFiles: /(^|\/)(Cargo\.toml|Cargo\.lock|rust-toolchain(\.toml)?)$/,
  detect: (view) => view.has("Cargo.toml"),
  plans,
  repair,
};
