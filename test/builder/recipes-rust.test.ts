import { existsSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderDockerfile } from "../../src/builder/dockerfile.ts";
import { nextestInstallStep, nextestTestCommand, usesNextest } from "../../src/builder/recipes/nextest.ts";
import {
  cargoPackages,
  cargoSelection,
  cargoTestCommand,
  contemporaryRust,
  gitIndexReachable,
  hostToolchain,
  nextestVersion,
  rust,
  rustChannel,
  rustVersion,
} from "../../src/builder/recipes/rust.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { run } from "../../src/util/exec.ts";
import { fakeTask, memoryView } from "../helpers/view.ts";

const crate = '[package]\nname = "calc"\nversion = "0.1.0"\nrust-version = "1.70"\n';

describe("rust recipe: toolchain", () => {
  it("reads the pinned channel from rust-toolchain.toml or the legacy file, and rust-version", () => {
    expect(rustChannel(memoryView({ "rust-toolchain.toml": '[toolchain]\nchannel = "1.78.0"\n' }))).toBe(
      "1.78.0",
    );
    expect(rustChannel(memoryView({ "rust-toolchain": "nightly-2024-01-01\n" }))).toBe("nightly-2024-01-01");
    expect(
      rustChannel(memoryView({ "rust-toolchain": '[toolchain]\ncomponents = ["rustfmt"]\n' })),
    ).toBeUndefined();
    expect(rustChannel(memoryView({}))).toBeUndefined();
    expect(rustVersion(memoryView({ "Cargo.toml": crate }))).toBe("1.70");
  });

  it("tries rustup, the host toolchain image, Debian's rustc-web, and Debian's 1.63 only for old crates", async () => {
    const host = await hostToolchain(undefined);
    const old = (await rust.plans({
      view: memoryView({ "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n', "src/lib.rs": "" }),
      task: fakeTask("rust"),
      testFiles: [],
    })) as BuildPlan[];
    expect(old.map((p) => p.name)).toEqual([
      "rust/rustup",
      ...(host ? ["rust/host-toolchain"] : []),
      "rust/debian-rustc-web",
      // Cargo 1.63 reads the index from github.com: planned only where that answers.
      ...((await gitIndexReachable()) ? ["rust/debian-1.63"] : []),
    ]);
    const modern = (await rust.plans({
      view: memoryView({ "Cargo.toml": crate, "Cargo.lock": "version = 4\n" }),
      task: fakeTask("rust"),
      testFiles: [],
    })) as BuildPlan[];
    expect(modern.map((p) => p.name)).not.toContain("rust/debian-1.63");
    const nightly = (await rust.plans({
      view: memoryView({ "Cargo.toml": crate, "rust-toolchain": "nightly-2024-01-01" }),
      task: fakeTask("rust"),
      testFiles: [],
    })) as BuildPlan[];
    expect(nightly.map((p) => p.name)).toEqual(["rust/rustup"]);
    expect(nightly[0]!.toolchain[0]).toContain("--default-toolchain nightly-2024-01-01");
    for (const p of old) {
      expect(p.install).toEqual(["cargo fetch", "cargo test --no-run --workspace"]);
      expect(p.test).toBe("cargo test --offline --no-fail-fast --workspace");
      expect(p.parser).toBe("cargo");
    }
  });

  it.skipIf(!existsSync(join(homedir(), ".rustup", "toolchains")))(
    "copies the host's toolchain from a local image made from it",
    async () => {
      const host = await hostToolchain(undefined);
      expect(host?.version).toMatch(/^\d+\.\d+\.\d+/);
      const plans = (await rust.plans({
        view: memoryView({ "Cargo.toml": crate }),
        task: fakeTask("rust"),
        testFiles: [],
      })) as BuildPlan[];
      const p = plans.find((x) => x.name === "rust/host-toolchain")!;
      const tag = `localhost/sweu-toolchain-rust:${host!.version}`;
      expect(p.images).toEqual([expect.objectContaining({ tag, source: host!.dir })]);
      const df = renderDockerfile({ baseImage: "base", plan: p });
      expect(df).toContain(`COPY --from=${tag} /opt/rust /opt/rust`);
      expect(df.indexOf("COPY --from")).toBeLessThan(df.indexOf("RUN /opt/rust/bin/rustc --version"));
    },
  );
});

describe("rust recipe: test selection", () => {
  const workspace = memoryView({
    "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
    "crates/core/Cargo.toml": '[package]\nname = "my-core"\nversion = "0.1.0"\n',
    "crates/core/src/lib.rs": "",
    "crates/cli/Cargo.toml": '[package]\nname = "my-cli"\nversion = "0.1.0"\n',
    "crates/cli/src/main.rs": "",
  });
  const single = memoryView({ "Cargo.toml": crate, "src/lib.rs": "" });

  it("maps test files to cargo targets", () => {
    expect(cargoPackages(workspace)).toEqual(
      new Map([
        ["crates/core", "my-core"],
        ["crates/cli", "my-cli"],
      ]),
    );
    expect(cargoSelection(single, ["tests/clamp.rs", "tests/parse/main.rs"])).toEqual([
      "--test clamp",
      "--test parse",
    ]);
    expect(cargoSelection(single, ["src/ops.rs"])).toEqual(["--lib"]);
    expect(cargoSelection(single, ["tests/common/mod.rs", "tests/a.rs"])).toEqual(["--tests"]);
    expect(cargoSelection(single, ["benches/b.rs", "README.md"])).toEqual([]);
    expect(cargoSelection(workspace, ["crates/core/tests/x.rs"])).toEqual(["-p my-core", "--test x"]);
    expect(cargoSelection(workspace, ["crates/cli/src/main.rs"])).toEqual(["-p my-cli", "--bins"]);
    expect(cargoSelection(workspace, ["crates/core/src/a.rs", "crates/cli/tests/t.rs"])).toEqual([
      "-p my-core",
      "-p my-cli",
      "--tests",
    ]);
    expect(cargoTestCommand(["--test clamp"])).toBe("cargo test --offline --no-fail-fast --test clamp");
  });

  it("reads failures: features a target requires, a target that does not exist", async () => {
    const [p] = (await rust.plans({
      view: single,
      task: fakeTask("rust"),
      testFiles: ["tests/clamp.rs"],
    })) as BuildPlan[];
    const feat = rust.repair!(p!, "error: target `clamp` requires the features: `serde`")!;
    expect(feat.test).toBe("cargo test --offline --no-fail-fast --all-features --test clamp");
    expect(feat.install[1]).toBe("cargo test --no-run --all-features --workspace");
    expect(rust.repair!(feat, "requires the features: `serde`")).toBeUndefined();
    const tests = rust.repair!(p!, "error: no test target named `clamp` in default-run packages")!;
    expect(tests.test).toBe("cargo test --offline --no-fail-fast --tests");
    expect(rust.repair!(p!, "thread 'x' panicked")).toBeUndefined();
  });
});

describe("rust recipe: the toolchain of the PR's day, and tests that fail with the fix", () => {
  it("picks the stable release current at a date", () => {
    expect(contemporaryRust("2021-05-20T10:00:00Z")).toBe("1.52");
    expect(contemporaryRust("2023-06-10T00:00:00Z")).toBe("1.70");
    expect(contemporaryRust("2014-01-01T00:00:00Z")).toBeUndefined();
    expect(contemporaryRust("not a date")).toBeUndefined();
  });

  it("adds the contemporary rustup toolchain second, unless the repository pins one", async () => {
    const t = { ...fakeTask("rust"), created_at: "2023-06-10T10:00:00Z" };
    const plain = (await rust.plans({
      view: memoryView({ "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n' }),
      task: t,
      testFiles: [],
    })) as BuildPlan[];
    expect(plain.slice(0, 2).map((p) => p.name)).toEqual(["rust/rustup", "rust/rustup-1.70"]);
    expect(plain[1]!.toolchain[0]).toContain("--default-toolchain 1.70");
    const pinned = (await rust.plans({
      view: memoryView({ "Cargo.toml": crate, "rust-toolchain": "1.75.0" }),
      task: t,
      testFiles: [],
    })) as BuildPlan[];
    expect(pinned.map((p) => p.name)).not.toContain("rust/rustup-1.70");
    // rust-version above the contemporary release rules it out; one below keeps it.
    const plansFor = async (v: string) =>
      (
        (await rust.plans({
          view: memoryView({ "Cargo.toml": crate.replace("1.70", v) }),
          task: t,
          testFiles: [],
        })) as BuildPlan[]
      ).map((p) => p.name);
    expect(await plansFor("1.75")).not.toContain("rust/rustup-1.70");
    expect(await plansFor("1.60")).toContain("rust/rustup-1.70");
    // Before 1.68 cargo needs github.com for the index: planned only where that answers.
    const early = (await rust.plans({
      view: memoryView({ "Cargo.toml": '[package]\nname = "x"\nversion = "0.1.0"\n' }),
      task: { ...t, created_at: "2021-05-20T10:00:00Z" },
      testFiles: [],
    })) as BuildPlan[];
    expect(early.some((p) => p.name === "rust/rustup-1.52")).toBe(await gitIndexReachable());
  });

  it("skips named tests that fail in the resolved state, once", async () => {
    const [p] = (await rust.plans({
      view: memoryView({ "Cargo.toml": crate, "src/lib.rs": "" }),
      task: fakeTask("rust"),
      testFiles: ["tests/clamp.rs"],
    })) as BuildPlan[];
    const log = [
      "     Running tests/clamp.rs (target/debug/deps/clamp-0123456789abcdef)",
      "running 3 tests",
      "test a::b ... ok",
      "test parse_errors ... FAILED",
      "test nested::c ... FAILED",
      "test result: FAILED. 1 passed; 2 failed; 0 ignored",
    ].join("\n");
    const r = rust.repair!(p!, log)!;
    expect(r.test).toBe(
      "cargo test --offline --no-fail-fast --test clamp -- --exact --skip parse_errors --skip nested::c",
    );
    expect(rust.repair!(r, log)).toBeUndefined();
    expect(rust.repair!(p!, "error: could not compile `calc`")).toBeUndefined();
  });
});

describe("rust recipe: cargo-nextest where the repository uses it", () => {
  const ws = {
    "Cargo.toml": '[workspace]\nmembers = ["crates/calc"]\n',
    "crates/calc/Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\n',
    "crates/calc/src/lib.rs": "",
  };

  it("tells nextest users by their config, CI workflow, Makefile or justfile", () => {
    expect(usesNextest(memoryView({ ...ws, ".config/nextest.toml": "" }))).toBe(true);
    const ci = "jobs:\n  t:\n    steps:\n      - run: cargo nextest run --workspace\n";
    expect(usesNextest(memoryView({ ...ws, ".github/workflows/ci.yml": ci }))).toBe(true);
    expect(usesNextest(memoryView({ ...ws, justfile: "test:\n    cargo nextest run\n" }))).toBe(true);
    expect(usesNextest(memoryView({ ...ws, Makefile: "test:\n\tcargo-nextest nextest run\n" }))).toBe(true);
    expect(usesNextest(memoryView({ ...ws, ".github/workflows/ci.yml": "- run: cargo test\n" }))).toBe(false);
    expect(usesNextest(memoryView({ ...ws, "docs/nextest.md": "cargo nextest run" }))).toBe(false);
  });

  it("pins the newest cargo-nextest release the toolchain compiles", () => {
    expect(nextestVersion("stable")).toBe("0.9.151");
    expect(nextestVersion("nightly")).toBe("0.9.151");
    expect(nextestVersion("1.95.0")).toBe("0.9.151");
    expect(nextestVersion("1.90")).toBe("0.9.120");
    expect(nextestVersion("1.85.1")).toBe("0.9.100");
    expect(nextestVersion("1.80.0")).toBe("0.9.80");
    expect(nextestVersion("1.70")).toBe("0.9.50");
    expect(nextestVersion("nightly-2024-01-01")).toBe("0.9.80");
    expect(nextestVersion("1.63")).toBeUndefined();
    expect(nextestVersion("debian rustc-web")).toBeUndefined();
  });

  it("offers rust/nextest first: installed in a toolchain layer, the PR's targets, doc tests apart", async () => {
    const view = memoryView({ ...ws, ".config/nextest.toml": "[profile.default]\n" });
    const plans = (await rust.plans({
      view,
      task: fakeTask("rust"),
      testFiles: ["crates/calc/tests/clamp.rs"],
    })) as BuildPlan[];
    const [nx, cargo] = plans as [BuildPlan, BuildPlan];
    expect(nx.name).toBe("rust/nextest");
    expect(plans.slice(1).every((p) => p.parser === "cargo")).toBe(true);
    expect(cargo.name).toBe("rust/rustup");
    expect(nx.parser).toBe("nextest");
    expect(nx.toolchainVersions).toEqual({ rust: "stable", source: "rustup", nextest: "0.9.151" });
    expect(nx.toolchain[0]).toBe(cargo.toolchain[0]);
    expect(nx.toolchain[1]).toContain(
      "cargo install --locked --quiet cargo-nextest@0.9.151 --root /usr/local",
    );
    expect(nx.toolchain[1]).toContain("sweu: cargo-nextest 0.9.151 cannot be installed");
    expect(nx.test).toBe(
      "cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip -p calc --test clamp",
    );
    // Installed before the repository is copied in: every environment on this toolchain shares the layer.
    const df = renderDockerfile({ baseImage: "base", plan: nx });
    expect(df.indexOf("cargo-nextest@0.9.151")).toBeGreaterThan(df.indexOf("rustup-init"));
    expect(df.indexOf("cargo-nextest@0.9.151")).toBeLessThan(df.indexOf("COPY testbed /testbed"));
    // The whole workspace (no selection): nextest, then the doc tests it cannot run.
    const [all] = (await rust.plans({ view, task: fakeTask("rust"), testFiles: [] })) as BuildPlan[];
    expect(all!.test).toBe(
      "(cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip --workspace; r=$?; cargo test --offline --no-fail-fast --doc --workspace || r=1; exit $r)",
    );
    expect(nextestTestCommand([], false)).toBe(
      "cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip --workspace",
    );
    // Without a sign of nextest: the cargo plans only.
    const plain = (await rust.plans({
      view: memoryView(ws),
      task: fakeTask("rust"),
      testFiles: [],
    })) as BuildPlan[];
    expect(plain.map((p) => p.parser)).not.toContain("nextest");
  });

  it.skipIf(!existsSync(join(homedir(), ".cargo", "bin", "cargo")))(
    "fails its install step with a message saying why when crates.io cannot be reached",
    async () => {
      // The real step, run by bash on this host with crates.io behind a proxy that refuses connections.
      const step = nextestInstallStep(
        {
          PATH: `${join(homedir(), ".cargo", "bin")}:/usr/bin:/bin`,
          HTTPS_PROXY: "http://127.0.0.1:9",
          CARGO_NET_RETRY: "0",
        },
        "0.9.151",
      );
      const r = await run("bash", ["-c", step], { timeoutMs: 60_000 });
      rmSync("/tmp/nextest-home", { recursive: true, force: true });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain("sweu: cargo-nextest 0.9.151 cannot be installed (crates.io unreachable");
    },
  );

  it("reads nextest failures like cargo's: features, missing targets, tests failing with the fix", async () => {
    const view = memoryView({ ...ws, ".config/nextest.toml": "" });
    const [all] = (await rust.plans({ view, task: fakeTask("rust"), testFiles: [] })) as BuildPlan[];
    const feat = rust.repair!(all!, "error: target `clamp` requires the features: `serde`")!;
    expect(feat.test).toBe(
      "(cargo nextest run --offline --no-fail-fast --all-features --retries 0 --status-level skip --workspace; r=$?; cargo test --offline --no-fail-fast --all-features --doc --workspace || r=1; exit $r)",
    );
    expect(feat.install).toContain("cargo nextest list --all-features --workspace >/dev/null");
    const [sel] = (await rust.plans({
      view,
      task: fakeTask("rust"),
      testFiles: ["crates/calc/tests/clamp.rs"],
    })) as BuildPlan[];
    const tests = rust.repair!(sel!, "error: no test target named `clamp` in `calc` package")!;
    expect(tests.test).toBe(
      "cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip -p calc --tests",
    );
    expect(rust.repair!(tests, "error: no test target named `clamp`")).toBeUndefined();
    // Tests failing with the fix in place (real nextest output): skipped once by a filterset, before the doc tests.
    const log = readFileSync(
      join(import.meta.dirname, "../fixtures/runner-output/nextest/workspace-and-doctests.log"),
      "utf8",
    );
    const skip = rust.repair!(all!, log)!;
    expect(skip.name).toBe("rust/nextest+skip-env-failures");
    expect(skip.test).toBe(
      "(cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip --workspace -E 'not (test(=tests::adds_wrong) | test(=triples_wrong))'; r=$?; cargo test --offline --no-fail-fast --doc --workspace || r=1; exit $r)",
    );
    expect(rust.repair!(skip, log)).toBeUndefined();
  });
});
