/**
 * cargo-nextest, for the Rust recipe's `rust/nextest` plan (see rust.ts): when a repository uses it, which
 * release a toolchain can build, the layer step that installs it, the test command, and how repairs find
 * the runner command in a test line that may also run the doc tests.
 */
import type { RepoView } from "../view.ts";
import type { BuildPlan } from "./types.ts";
import { q } from "./types.ts";

/** Whether the repository runs its tests with cargo-nextest. */
export function usesNextest(view: RepoView): boolean {
  if (view.has(".config/nextest.toml")) return true;
  return view.files
    .filter((f) => /^(?:\.github\/workflows\/[^/]+\.ya?ml|Makefile|[Jj]ustfile)$/.test(f))
    .some((f) => /cargo[- ]nextest\b|\bnextest run\b/.test(view.read(f) ?? ""));
}

/**
 * cargo-nextest releases by the oldest Rust they compile on (their `rust-version`, installed --locked):
 * the newest release the toolchain can build. Minor versions below the last entry get none.
 */
const NEXTEST_RELEASES: [number, string][] = [
  [91, "0.9.151"],
  [89, "0.9.120"],
  [85, "0.9.100"],
  [75, "0.9.80"],
  [74, "0.9.70"],
  [64, "0.9.50"],
];

/** The newest release that compiles on Rust 1.`minor` (undefined when none does). */
export function nextestRelease(minor: number): string | undefined {
  return NEXTEST_RELEASES.find(([min]) => minor >= min)?.[1];
}

/**
 * The toolchain step that installs cargo-nextest into /usr/local/bin: its own CARGO_HOME and target
 * directory, both removed, so the layer holds the binary only. A failure says why in the build log.
 */
export function nextestInstallStep(env: Record<string, string>, version: string): string {
  const exports = Object.entries(env)
    .map(([k, v]) => `${k}=${q(v)}`)
    .join(" ");
  return [
    `export ${exports}`,
    `(CARGO_HOME=/tmp/nextest-home cargo install --locked --quiet cargo-nextest@${version} --root /usr/local --target-dir /tmp/nextest-target || { echo "sweu: cargo-nextest ${version} cannot be installed (crates.io unreachable, or the toolchain cannot build it)" >&2; exit 1; })`,
    "rm -rf /tmp/nextest-home /tmp/nextest-target",
    "cargo nextest --version",
  ].join(" && ");
}

/**
 * `cargo nextest run` on the selection (the same target flags as cargo test); with `doc`, the doc tests
 * after it with `cargo test --doc`, the command failing when either fails. No retries, whatever the
 * repository's profile says: a test that passes on its second try is flaky, which the validation runs
 * must see. Skipped tests are printed, so ignored ones are reported SKIPPED as cargo's are.
 */
export function nextestTestCommand(selection: string[], doc: boolean, features: string[] = []): string {
  const scope = selection.length ? selection : ["--workspace"];
  const run = [
    "cargo nextest run --offline --no-fail-fast --retries 0 --status-level skip",
    ...features,
    ...scope,
  ].join(" ");
  if (!doc) return run;
  const docs = ["cargo test --offline --no-fail-fast", ...features, "--doc --workspace"].join(" ");
  return `(${run}; r=$?; ${docs} || r=1; exit $r)`;
}

/** The runner command of a plan's test line: nextest's when doc tests follow it, else the whole line. */
const NEXTEST_RUN = /cargo nextest run [^;]*/;
export function runnerOf(plan: BuildPlan): string {
  return plan.parser === "nextest" ? (NEXTEST_RUN.exec(plan.test)?.[0] ?? plan.test) : plan.test;
}

/** The plan's test line with its runner command rewritten by `edit`. */
export function editRunner(plan: BuildPlan, edit: (cmd: string) => string): string {
  return plan.parser === "nextest" ? plan.test.replace(NEXTEST_RUN, (cmd) => edit(cmd)) : edit(plan.test);
}
