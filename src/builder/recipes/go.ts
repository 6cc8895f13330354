import { parseGoTestJson } from "../../harness/parsers/go.ts";
import type { RepoView } from "../view.ts";
import { byRoot, ownerDir } from "./layout.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/**
 * Go modules. The toolchain is the Go module proxy's toolchain module (golang.org/toolchain, the zip the
 * `go` command itself downloads for GOTOOLCHAIN switching), resolved to an exact version on the host;
 * Debian's golang packages (bookworm 1.19, bookworm-backports 1.21–1.23) are the fallback. Dependencies
 * are downloaded and the test binaries compiled at image build time; evaluation runs offline
 * (GOPROXY=off) on the packages of the PR's test files.
 */

/** First usable proxy URL of a GOPROXY list ("direct" and "off" are not URLs). */
export function goProxyUrl(env: string | undefined = process.env.GOPROXY): string {
  const first = (env ?? "")
    .split(/[,|]/)
    .map((s) => s.trim())
    .find((s) => /^https?:\/\//.test(s));
  return (first ?? "https://proxy.golang.org").replace(/\/$/, "");
}

export interface GoWanted {
  /** "1.22" or "1.22.3": what go.mod asks for (toolchain line first). */
  version: string;
  /** The version names a patch release exactly (toolchain line or a three-part go line). */
  exact: boolean;
}

/** Go for modules whose go line predates 1.21 (or who have none): see goWanted. */
export const OLD_MODULE_GO = "1.22";

/**
 * The Go version a module asks for: its `toolchain goX.Y.Z` line, else its `go X.Y[.Z]` line. Before 1.21
 * the go line only named the language version (the compiler keeps old semantics for it, e.g. loop
 * variables), and such modules' dependencies often need a newer compiler than that line: they get
 * OLD_MODULE_GO, as the Go 1 compatibility promise allows.
 */
export function goWanted(goMod: string | undefined): GoWanted | undefined {
  if (!goMod) return undefined;
  const tc = /^toolchain\s+go(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
  if (tc) return { version: tc, exact: tc.split(".").length === 3 };
  const go = /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1];
  if (!go) return undefined;
  if (Number(go.split(".")[1]) < 21) return { version: OLD_MODULE_GO, exact: false };
  return { version: go, exact: go.split(".").length === 3 };
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

const listCache = new Map<string, Promise<string[]>>();

/** Released Go versions the proxy lists as linux-amd64 toolchain modules ("1.22.12", …). */
export function proxyGoVersions(proxy = goProxyUrl()): Promise<string[]> {
  let p = listCache.get(proxy);
  if (!p) {
    p = (async () => {
      const res = await fetch(`${proxy}/golang.org/toolchain/@v/list`, {
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) throw new Error(`${proxy} answered ${res.status}`);
      const out: string[] = [];
      for (const m of (await res.text()).matchAll(/^v0\.0\.1-go(\d+\.\d+(?:\.\d+)?)\.linux-amd64$/gm))
        out.push(m[1]!);
      return out.sort(cmpVersion);
    })();
    p.catch(() => listCache.delete(proxy));
    listCache.set(proxy, p);
  }
  return p;
}

async function proxyHas(version: string, proxy: string): Promise<boolean> {
  try {
    const res = await fetch(`${proxy}/golang.org/toolchain/@v/v0.0.1-go${version}.linux-amd64.info`, {
      signal: AbortSignal.timeout(20_000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * The exact Go release to install: the requested patch when the proxy has it, else the newest patch of the
 * requested minor (a go line is a minimum; patches only fix bugs). The proxy's list is not exhaustive, so
 * an exact request is probed directly. Undefined when the proxy has no release of that minor.
 */
export async function resolveGo(wanted: GoWanted, proxy = goProxyUrl()): Promise<string | undefined> {
  if (wanted.exact && (await proxyHas(wanted.version, proxy))) return wanted.version;
  let listed: string[];
  try {
    listed = await proxyGoVersions(proxy);
  } catch {
    return undefined;
  }
  const minor = wanted.version.split(".").slice(0, 2).join(".");
  const same = listed.filter((v) => v === minor || v.startsWith(`${minor}.`));
  const atLeast = same.filter((v) => cmpVersion(v, wanted.version) >= 0);
  return atLeast.at(-1) ?? (wanted.exact ? undefined : same.at(-1));
}

/** Debian's Go for a minor: bookworm's 1.19, or bookworm-backports' 1.21–1.23 (the lowest that suffices). */
export function debianGo(minor: string): { pkg: string; version: string; backports: boolean } | undefined {
  const m = Number(minor.split(".")[1]);
  if (m <= 19) return { pkg: "golang-1.19-go", version: "1.19", backports: false };
  for (const v of [21, 22, 23])
    if (m <= v) return { pkg: `golang-1.${v}-go`, version: `1.${v}`, backports: true };
  return undefined;
}

export function isGoTestFile(path: string): boolean {
  return path.endsWith("_test.go");
}

/**
 * `go test` arguments grouped by module: the package directory of each test file (a testdata file belongs
 * to the package that holds its testdata/ directory). Empty when the PR has no Go test file.
 */
export function goTestPackages(view: RepoView, testFiles: string[]): Map<string, string[]> {
  const roots = view.files.filter((f) => f === "go.mod" || f.endsWith("/go.mod")).map(ownerDir);
  const dirs = new Set<string>();
  for (const f of testFiles) {
    if (isGoTestFile(f)) dirs.add(ownerDir(f));
    else {
      const td = /^(.*?)\/?testdata\//.exec(f);
      if (td && view.files.some((x) => x.startsWith(td[1] ? `${td[1]}/` : "") && x.endsWith(".go")))
        dirs.add(td[1] ?? "");
    }
  }
  return byRoot([...dirs], roots, (rel) => (rel ? `./${rel}` : "."));
}

/**
 * The test command: one `go test -json` per module, the packages of the PR's tests (all when none).
 * `go test` passes a package whose test files are gone ("no test files", or only the other files' tests),
 * so the command also requires the PR's Go test files to be there: tests that were deleted cannot pass.
 */
export function goTestCommand(packages: Map<string, string[]>, testFiles: string[] = []): string {
  const run = (pkgs: string[]) => `go test -json -count=1 ${pkgs.map(q).join(" ")}`;
  const present = testFiles.filter(isGoTestFile);
  const guard = present.length ? ` && test -e ${present.map(q).join(" -a -e ")}` : "";
  if (!packages.size) return run(["./..."]) + guard;
  const entries = [...packages.entries()];
  if (entries.length === 1 && entries[0]![0] === "") return run(entries[0]![1]) + guard;
  const parts = entries.map(([root, pkgs]) => `(cd /testbed/${root} && ${run(pkgs)}) || rc=1`);
  return `bash -c ${q(`rc=0; ${parts.join("; ")}; exit $rc`)}${guard}`;
}

const COMMON_APT = ["gcc", "libc6-dev", "unzip", "pkg-config"];

function goEnv(goroot: string, vendored: boolean): Record<string, string> {
  return {
    GOROOT: goroot,
    GOPATH: "/root/go",
    PATH: `${goroot}/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    GOTOOLCHAIN: "local",
    GOFLAGS: vendored ? "-mod=vendor" : "-mod=mod",
    // Evaluation is offline; install steps name the proxy themselves.
    GOPROXY: "off",
    CGO_ENABLED: "1",
  };
}

function installSteps(view: RepoView, roots: string[], proxy: string): string[] {
  const env = `GOPROXY=${q(`${proxy},direct`)}`;
  const steps: string[] = [];
  for (const root of roots) {
    const cd = root ? `cd ${q(root)} && ` : "";
    if (!view.has(root ? `${root}/vendor/modules.txt` : "vendor/modules.txt"))
      steps.push(`${cd}${env} go mod download`);
    // Compile every package and test binary once so evaluation only rebuilds what the patches touch.
    // Best effort: a package that does not build here (platform-specific, cgo) must not sink the image.
    steps.push(
      `${cd}${env} go test -count=1 -run '^$' ./... >/tmp/go-precompile.log 2>&1 || (tail -n 40 /tmp/go-precompile.log; true)`,
    );
  }
  return steps;
}

async function plans({ view, testFiles }: RecipeContext): Promise<BuildPlan[] | { unavailable: string }> {
  const wanted = goWanted(view.read("go.mod")) ?? { version: OLD_MODULE_GO, exact: false };
  const proxy = goProxyUrl();
  const packages = goTestPackages(view, testFiles);
  const test = goTestCommand(packages, testFiles);
  const roots = packages.size ? [...packages.keys()] : view.has("go.mod") ? [""] : [];
  if (!roots.length) return { unavailable: "no go.mod at the repository root or for the PR's tests" };
  const vendored = view.has("vendor/modules.txt");
  const install = installSteps(view, roots, proxy);
  // On a shared environment (same go.mod/go.sum, another commit): only recompile the swapped-in source.
  const refresh = install.filter((s) => s.includes("go test -count=1 -run"));
  const out: BuildPlan[] = [];
  const version = await resolveGo(wanted, proxy);
  if (version) {
    const goroot = `/usr/local/go-${version}`;
    const zip = `${proxy}/golang.org/toolchain/@v/v0.0.1-go${version}.linux-amd64.zip`;
    out.push({
      name: "go/proxy-toolchain",
      language: "go",
      apt: COMMON_APT,
      toolchain: [
        `curl -fsSL ${q(zip)} -o /tmp/go.zip && mkdir -p /tmp/go-unzip && unzip -q /tmp/go.zip -d /tmp/go-unzip && mv /tmp/go-unzip/golang.org/toolchain@*/ ${goroot} && rm -rf /tmp/go.zip /tmp/go-unzip`,
        // Module zips carry no file modes.
        `chmod -R a+x ${goroot}/bin ${goroot}/pkg/tool && ${goroot}/bin/go version`,
      ],
      env: goEnv(goroot, vendored),
      install,
      refresh,
      test,
      parser: "go-test-json",
      toolchainVersions: { go: version, source: "proxy.golang.org toolchain module" },
    });
  }
  const deb = debianGo(wanted.version);
  if (deb) {
    const goroot = `/usr/lib/go-${deb.version}`;
    out.push({
      name: `go/debian-${deb.version}`,
      language: "go",
      apt: COMMON_APT,
      toolchain: [
        `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${deb.backports ? "-t bookworm-backports " : ""}${deb.pkg} >/dev/null && rm -rf /var/lib/apt/lists/* && ${goroot}/bin/go version`,
      ],
      env: goEnv(goroot, vendored),
      install,
      refresh,
      test,
      parser: "go-test-json",
      toolchainVersions: { go: deb.version, source: `debian ${deb.pkg}` },
    });
  }
  if (!out.length)
    return {
      unavailable: `Go ${wanted.version} is neither on the Go module proxy (${proxy}) nor packaged by Debian bookworm`,
    };
  return out;
}

/**
 * Read a resolved-state failure: top-level tests that fail even with the fix (they need what the sandbox
 * lacks: a non-root user, a display, the network…) are skipped with `-skip`, once. A skipped test can never
 * become FAIL_TO_PASS or PASS_TO_PASS, so this cannot make a task look solvable that is not: if the PR's
 * own tests are among them, validation finds no FAIL_TO_PASS and rejects the task.
 */
function repair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  if (plan.parser !== "go-test-json" || plan.test.includes(" -skip ")) return undefined;
  const failed = [
    ...new Set(
      parseGoTestJson(failure)
        .filter((t) => t.status === "FAILED" || t.status === "ERROR")
        .map((t) => t.name.split("/")[0]!),
    ),
  ];
  if (!failed.length || failed.length > 20 || !failed.every((n) => /^(Test|Example|Fuzz)\w*$/.test(n)))
    return undefined;
  const skip = `-skip ${q(`^(${failed.sort().join("|")})$`)}`;
  return {
    ...plan,
    name: `${plan.name}+skip-env-failures`,
    test: plan.test.replaceAll("go test -json -count=1 ", () => `go test -json -count=1 ${skip} `),
  };
}

export const go: Recipe = {
  name: "go",
  languages: ["go"],
  manifests: /(^|\/)(go\.mod)$/,
  dependencyFiles: /(^|\/)(go\.mod|go\.sum)$/,
  detect: (view) => view.files.some((f) => f === "go.mod" || f.endsWith("/go.mod")),
  plans,
  repair,
};
