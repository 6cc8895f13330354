import type { RepoView } from "../view.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/**
 * C and C++: CMake + CTest first, Meson, autotools (`make check`), then plain Make. The project is
 * configured and built at image build time; evaluation REBUILDS (patches change sources) and runs the tests.
 *
 * Parsers: CTest's progress lines (`ctest` parser: one result per CTest test, "Suite.Test" when the project
 * uses gtest_discover_tests/catch_discover_tests). Where the project uses GoogleTest, every gtest binary
 * CTest runs also writes an XML report (GTEST_OUTPUT, set on the ctest command only, so build-time test
 * discovery writes nothing), printed as JUnit sections and read first: one result per gtest case even
 * without gtest_discover_tests. Meson writes JUnit itself. Autotools' `make check` harness prints one
 * "PASS: name" line per test (`automake` parser); a hand-written Makefile is used only where its test
 * output can be read per test (GoogleTest programs, TAP, automake-style PASS:/FAIL: lines).
 *
 * A change that does not compile in the buggy state is a failing state, not a broken environment: the build
 * keeps going (-k) and, because the install step deletes every linked binary after the first build, a test
 * program that no longer compiles is missing, so CTest reports it "Not Run" (an ERROR) instead of running
 * a stale binary from the base commit.
 */

/** find_package / pkg_check_modules names → Debian packages (Threads, PkgConfig need nothing extra). */
const FIND_PACKAGE: Record<string, string[]> = {
  gtest: ["libgtest-dev", "libgmock-dev"],
  googletest: ["libgtest-dev", "libgmock-dev"],
  gmock: ["libgmock-dev"],
  catch2: ["catch2"],
  doctest: ["doctest-dev"],
  zlib: ["zlib1g-dev"],
  openssl: ["libssl-dev"],
  curl: ["libcurl4-openssl-dev"],
  boost: ["libboost-dev"],
  fmt: ["libfmt-dev"],
  spdlog: ["libspdlog-dev"],
  benchmark: ["libbenchmark-dev"],
  "yaml-cpp": ["libyaml-cpp-dev"],
  nlohmann_json: ["nlohmann-json3-dev"],
  bzip2: ["libbz2-dev"],
  liblzma: ["liblzma-dev"],
  lz4: ["liblz4-dev"],
  zstd: ["libzstd-dev"],
  png: ["libpng-dev"],
  jpeg: ["libjpeg-dev"],
  sqlite3: ["libsqlite3-dev"],
  libxml2: ["libxml2-dev"],
  expat: ["libexpat1-dev"],
  protobuf: ["libprotobuf-dev", "protobuf-compiler"],
  eigen3: ["libeigen3-dev"],
  pcre2: ["libpcre2-dev"],
  libuv: ["libuv1-dev"],
  iconv: [],
  threads: [],
  pkgconfig: [],
  python3: ["python3-dev"],
  python: ["python3-dev"],
  doxygen: [],
};

/** Debian packages for the libraries the build files ask for (find_package, pkg_check_modules, dependency()). */
export function nativeDependencies(view: RepoView): string[] {
  const texts = view.files
    .filter((f) => /(^|\/)(CMakeLists\.txt|meson\.build)$/.test(f))
    .map((f) => view.read(f) ?? "");
  const pkgs = new Set<string>();
  for (const t of texts) {
    const names = [
      ...[...t.matchAll(/find_package\s*\(\s*([\w-]+)/gi)].map((m) => m[1]!),
      ...[...t.matchAll(/dependency\s*\(\s*'([\w-]+)'/g)].map((m) => m[1]!),
    ];
    for (const n of names) for (const p of FIND_PACKAGE[n.toLowerCase()] ?? []) pkgs.add(p);
  }
  if (usesGtest(view)) for (const p of FIND_PACKAGE.gtest!) pkgs.add(p);
  return [...pkgs].sort();
}

export function usesGtest(view: RepoView): boolean {
  return view.files.some((f) => {
    if (!/(^|\/)(CMakeLists\.txt|meson\.build|Makefile)$/.test(f)) return false;
    return /gtest|googletest/i.test(view.read(f) ?? "");
  });
}

/**
 * CMake options to set: those that switch tests on (FOO_BUILD_TESTS, FOO_TESTS, ENABLE_TESTING …) ON, and
 * those that need tools the image lacks or only add work (docs, fuzzers, benchmarks, examples, -Werror) OFF.
 */
export function cmakeOptions(view: RepoView): { on: string[]; off: string[] } {
  const top = view.read("CMakeLists.txt") ?? "";
  const on = new Set<string>();
  const off = new Set<string>();
  for (const m of top.matchAll(/option\s*\(\s*(\w+)/gi)) {
    const name = m[1]!;
    if (/DOCS?$|DOXYGEN|FUZZ|BENCH|EXAMPLES?$|SAMPLES?$|WERROR|WARNINGS_AS_ERRORS/i.test(name)) off.add(name);
    else if (
      /TESTS?$|TESTING$|^(?:ENABLE|BUILD|WITH)_?\w*TESTS?\b/i.test(name) &&
      !/DISABLE|^NO_|SKIP/i.test(name)
    )
      on.add(name);
  }
  return { on: [...on].sort(), off: [...off].sort() };
}

const GTEST_DIR = "/tmp/sweu-gtest";
const DELETE_BINARIES = `find build -path '*/CMakeFiles' -prune -o -type f -perm -u+x -print | while IFS= read -r f; do head -c4 "$f" | grep -q ELF && rm -f "$f"; done; true`;

function cmakePlans(view: RepoView, apt: string[]): BuildPlan[] {
  const defs = [
    "-DCMAKE_BUILD_TYPE=Debug",
    "-DBUILD_TESTING=ON",
    ...cmakeOptions(view).on.map((o) => `-D${o}=ON`),
    ...cmakeOptions(view).off.map((o) => `-D${o}=OFF`),
  ];
  const configure = `cmake -S . -B build ${defs.map(q).join(" ")}`;
  const install = [
    configure,
    "cmake --build build -j2",
    // Later reconfigurations (a patched CMakeLists.txt) must not reach for the network.
    "cmake -S . -B build -DFETCHCONTENT_FULLY_DISCONNECTED=ON >/dev/null",
    DELETE_BINARIES,
  ];
  // On a shared environment (same CMakeLists, another commit): rebuild the swapped-in source, best effort.
  const refresh = ["cmake --build build -j2 >/dev/null 2>&1 || true", DELETE_BINARIES];
  const build = "cmake --build build -j2 -- -k 2>&1;";
  const ctest = "ctest --test-dir build --output-on-failure --no-tests=error --timeout 600";
  const base = {
    language: "cpp" as const,
    apt: ["cmake", "build-essential", "pkg-config", ...apt],
    toolchain: ["cmake --version | head -1 && g++ --version | head -1"],
    env: { CTEST_OUTPUT_ON_FAILURE: "1", CLICOLOR: "0" },
    install,
    refresh,
    parser: "ctest",
    toolchainVersions: { cmake: "debian bookworm", compiler: "g++ 12 (debian bookworm)" },
  };
  const out: BuildPlan[] = [];
  if (usesGtest(view))
    out.push({
      ...base,
      name: "cpp/cmake-ctest-gtest-xml",
      test: `${build} mkdir -p ${GTEST_DIR} && GTEST_OUTPUT=xml:${GTEST_DIR}/ ${ctest}`,
      junit: `${GTEST_DIR}/*.xml`,
    });
  out.push({ ...base, name: "cpp/cmake-ctest", test: `${build} ${ctest}` });
  return out;
}

function mesonPlans(apt: string[]): BuildPlan[] {
  return [
    {
      name: "cpp/meson",
      language: "cpp",
      apt: ["meson", "ninja-build", "build-essential", "pkg-config", ...apt],
      toolchain: ["meson --version"],
      env: { CLICOLOR: "0" },
      install: ["meson setup build", "meson compile -C build"],
      refresh: ["meson compile -C build >/dev/null 2>&1 || true"],
      test: "meson test -C build --print-errorlogs",
      junit: "build/meson-logs/testlog.junit.xml",
      parser: "junit",
      toolchainVersions: { meson: "debian bookworm" },
    },
  ];
}

/** Autotools: configure.ac (configure.in in older projects) at the root. */
export function usesAutotools(view: RepoView): boolean {
  return view.has("configure.ac") || view.has("configure.in");
}

/** pkg-config modules (PKG_CHECK_MODULES) and libraries (AC_CHECK_LIB, AC_SEARCH_LIBS) → Debian packages. */
const AUTOCONF_LIBS: Record<string, string[]> = {
  check: ["check"],
  cmocka: ["libcmocka-dev"],
  cunit: ["libcunit1-dev"],
  zlib: ["zlib1g-dev"],
  z: ["zlib1g-dev"],
  openssl: ["libssl-dev"],
  libssl: ["libssl-dev"],
  libcrypto: ["libssl-dev"],
  ssl: ["libssl-dev"],
  crypto: ["libssl-dev"],
  libcurl: ["libcurl4-openssl-dev"],
  curl: ["libcurl4-openssl-dev"],
  "glib-2.0": ["libglib2.0-dev"],
  "libxml-2.0": ["libxml2-dev"],
  xml2: ["libxml2-dev"],
  sqlite3: ["libsqlite3-dev"],
  "libpcre2-8": ["libpcre2-dev"],
  pcre2: ["libpcre2-dev"],
  jansson: ["libjansson-dev"],
  libevent: ["libevent-dev"],
  event: ["libevent-dev"],
  ncurses: ["libncurses-dev"],
  ncursesw: ["libncurses-dev"],
  readline: ["libreadline-dev"],
  expat: ["libexpat1-dev"],
  lzma: ["liblzma-dev"],
  liblzma: ["liblzma-dev"],
  bz2: ["libbz2-dev"],
  libzstd: ["libzstd-dev"],
  zstd: ["libzstd-dev"],
  yaml: ["libyaml-dev"],
  "yaml-0.1": ["libyaml-dev"],
};

/** Debian packages configure.ac needs: the autotools, their macro sets, and the libraries it checks for. */
export function autotoolsDependencies(view: RepoView): string[] {
  const ac = view.read("configure.ac") ?? view.read("configure.in") ?? "";
  const pkgs = new Set(["autoconf", "automake", "libtool", "pkg-config"]);
  if (/\bAX_\w+/.test(ac)) pkgs.add("autoconf-archive");
  if (/AM_GNU_GETTEXT/.test(ac)) for (const p of ["autopoint", "gettext"]) pkgs.add(p);
  const names = [
    ...[...ac.matchAll(/PKG_CHECK_MODULES\(\s*\[?\w+\]?\s*,\s*\[?([^\]),]+)/g)].flatMap((m) =>
      m[1]!.split(/\s+/).filter((w) => /^[a-z][\w.+-]*$/i.test(w) && !/^\d/.test(w)),
    ),
    ...[...ac.matchAll(/AC_(?:CHECK|SEARCH)_LIBS?\(\s*\[?([\w.+-]+)/g)].map((m) => m[1]!),
  ];
  for (const n of names) for (const p of AUTOCONF_LIBS[n.toLowerCase()] ?? []) pkgs.add(p);
  return [...pkgs].sort();
}

/**
 * Autotools: `autoreconf -fi` where no configure script is committed, `./configure && make -j2` at image
 * build time; evaluation rebuilds (make notices the patched sources, and regenerates Makefiles from a
 * patched Makefile.am with the automake the image holds) and runs `make -k check`.
 */
function autotoolsPlans(view: RepoView, apt: string[]): BuildPlan[] {
  const generate = view.has("configure") ? [] : ["autoreconf -fi"];
  return [
    {
      name: `cpp/autotools${generate.length ? "-autoreconf" : ""}`,
      language: "cpp",
      apt: ["build-essential", ...autotoolsDependencies(view), ...apt],
      toolchain: [
        "autoreconf --version | head -1 && automake --version | head -1 && gcc --version | head -1",
      ],
      env: {},
      install: [...generate, "./configure", "make -j2"],
      refresh: ["make -j2 >/dev/null 2>&1 || true"],
      test: "make -j2 -k 2>&1; make -k check",
      parser: "automake",
      toolchainVersions: { autotools: "debian bookworm", compiler: "gcc 12 (debian bookworm)" },
    },
  ];
}

/** A hand-written Makefile's output format, told from the Makefile: GoogleTest, TAP or automake-style. */
function makeOutput(view: RepoView, mk: string): "gtest" | "tap" | "automake" | undefined {
  if (usesGtest(view)) return "gtest";
  if (/\bTAP\b|--tap\b|tap-driver|\.tap\b/i.test(mk)) return "tap";
  if (/\b(?:PASS|FAIL):/.test(mk) || /test-driver/.test(mk)) return "automake";
  return undefined;
}

/** Plain Make: only where the output can be read per test. */
function makePlans(view: RepoView, apt: string[]): BuildPlan[] {
  const mk = view.read("Makefile") ?? "";
  const target = /^check\s*:/m.test(mk) ? "check" : /^test\s*:/m.test(mk) ? "test" : undefined;
  const output = target && makeOutput(view, mk);
  if (!target || !output) return [];
  return [
    {
      name: `cpp/make-${target}-${output}`,
      language: "cpp",
      apt: ["build-essential", "pkg-config", ...apt],
      toolchain: ["make --version | head -1"],
      env: {},
      install: ["make -j2"],
      refresh: ["make -j2 >/dev/null 2>&1 || true"],
      test: `make -k ${target}`,
      parser: output,
      toolchainVersions: { compiler: "g++ 12 (debian bookworm)" },
    },
  ];
}

function plans({ view, task }: RecipeContext): BuildPlan[] | { unavailable: string } {
  const apt = nativeDependencies(view);
  const out = [
    ...(view.has("CMakeLists.txt") ? cmakePlans(view, apt) : []),
    ...(view.has("meson.build") ? mesonPlans(apt) : []),
    ...(usesAutotools(view) ? autotoolsPlans(view, apt) : makePlans(view, apt)),
  ].map((p) => ({ ...p, language: task.language === "c" ? ("c" as const) : ("cpp" as const) }));
  if (!out.length)
    return {
      unavailable:
        "no CMake, Meson or autotools build, and no Make check/test target whose output can be read per test (GoogleTest, TAP or automake-style PASS:/FAIL: lines)",
    };
  return out;
}

/**
 * Read a failure: a committed configure whose rebuild rules ask for another automake release ("'automake-1.15'
 * is missing on your system") → regenerate everything with the image's autotools first.
 */
function repair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  if (
    plan.name === "cpp/autotools" &&
    /'(?:automake|aclocal|autoconf|autoheader)[\w.-]*' is missing on your system|possibly undefined macro|version mismatch/.test(
      failure,
    )
  )
    return { ...plan, name: "cpp/autotools-autoreconf", install: ["autoreconf -fi", ...plan.install] };
  return undefined;
}

export const cmake: Recipe = {
  name: "c-cpp",
  languages: ["c", "cpp"],
  manifests: /(^|\/)(CMakeLists\.txt|meson\.build|Makefile|configure\.(ac|in))$/,
  dependencyFiles: /(^|\/)(CMakeLists\.txt|meson\.build)$/,
  // The resolved CMakeLists.txt names the sources the PR adds (a new test file): configured at the base it
  // fails. It is applied with the patch; the build step's `cmake --build` reconfigures.
  overlayFiles: /(?!)/,
  detect: (view) =>
    ["CMakeLists.txt", "meson.build", "configure.ac", "configure.in", "Makefile"].some((f) => view.has(f)),
  plans,
  repair,
};
