import type { FileKind } from "../records/candidate.ts";
import type { Language } from "../records/common.ts";

/**
 * Path classification: every changed path is `test`, `code` or `other`, by tables.
 *
 * Order of the rules: (0) production paths that only look like tests (a JVM source under Maven/Gradle's
 * `src/main/`) skip the test conventions; (1) test conventions, per ecosystem, win over everything else
 * (a PNG under tests/ is a test fixture and belongs to the test patch); (2) "other" patterns: docs, CI,
 * build scripts, lockfiles, generated and vendored files, images; (3) a source extension from the
 * language table makes a file `code`; (4) anything else is `other`.
 * "Code" means source that the tests exercise: build and packaging scripts (setup.py, *.gradle.kts,
 * bundler configs) and generated files are `other` even with a source extension. They still go into the
 * gold patch (split.ts), they just do not make a PR a code change.
 * `testing/` is a test directory only at the repository root (pytest keeps its suite there); inside a
 * package it is library code that tests import (numpy/testing, @angular/core/testing, Go's …/testing fakes).
 * Rust's inline `#[cfg(test)]` modules are a content rule, applied by the splitter (see split.ts).
 */

/** Source extensions → language. Code in a language we do not build is mapped to "other". */
const EXTENSIONS: Record<string, Language> = {
  py: "python",
  pyi: "python",
  pyx: "python",
  js: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  jsx: "javascript",
  vue: "javascript",
  svelte: "javascript",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  go: "go",
  java: "java",
  kt: "kotlin",
  kts: "kotlin",
  scala: "scala",
  sc: "scala",
  rs: "rust",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  "c++": "cpp",
  hh: "cpp",
  hpp: "cpp",
  hxx: "cpp",
  ipp: "cpp",
  cs: "csharp",
  rb: "ruby",
  php: "php",
  swift: "swift",
  // Code, but in languages without a builder: counted as code in "other" (→ unsupported_language).
  sh: "other",
  bash: "other",
  pl: "other",
  pm: "other",
  lua: "other",
  r: "other",
  ex: "other",
  exs: "other",
  erl: "other",
  hs: "other",
  ml: "other",
  dart: "other",
  zig: "other",
  m: "other",
  mm: "other",
  jl: "other",
  clj: "other",
  fs: "other",
  nim: "other",
};

interface TestRule {
  ecosystem: string;
  pattern: RegExp;
}

/** Production code whatever its name or directories say: JVM sources under Maven/Gradle's `src/main/`. */
const NOT_TEST: RegExp[] = [/(^|\/)src\/main\/(.*\/)?[^/]+\.(java|kt|scala|groovy)$/];

/** Test conventions. Patterns match the whole path (posix separators). */
const TEST_RULES: TestRule[] = [
  // Shared directory conventions (Python, JS/TS, Rust, C/C++, Ruby, PHP…): a path segment named so.
  { ecosystem: "any", pattern: /(^|\/)(tests?|__tests__|spec|specs|testdata|test_data|e2e)\// },
  { ecosystem: "any", pattern: /^testing\// },
  { ecosystem: "python", pattern: /(^|\/)test_[^/]*\.py$/ },
  { ecosystem: "python", pattern: /_tests?\.py$/ },
  { ecosystem: "python", pattern: /(^|\/)conftest\.py$/ },
  { ecosystem: "js", pattern: /\.(test|spec)(-d)?\.[cm]?[jt]sx?$/ },
  { ecosystem: "js", pattern: /\.(test|spec)\.(vue|svelte|snap)$/ },
  { ecosystem: "js", pattern: /(^|\/)__(mocks|snapshots|fixtures)__\// },
  { ecosystem: "go", pattern: /_test\.go$/ },
  { ecosystem: "rust", pattern: /(^|\/)benches\// },
  { ecosystem: "jvm", pattern: /(^|\/)src\/(test|testFixtures|integrationTest|androidTest)\// },
  { ecosystem: "jvm", pattern: /(^|\/)[^/]*Tests?\.(java|kt|scala)$/ },
  { ecosystem: "cpp", pattern: /(^|\/)[^/]*_(unit)?tests?\.(c|cc|cpp|cxx|h|hpp)$/ },
  { ecosystem: "csharp", pattern: /(^|\/)[^/]*\.(Unit|Integration)?Tests?\/|(^|\/)[^/]*Tests?\.cs$/ },
  { ecosystem: "ruby", pattern: /_spec\.rb$|(^|\/)spec_helper\.rb$/ },
  { ecosystem: "php", pattern: /Test\.php$/ },
  { ecosystem: "swift", pattern: /(^|\/)Tests\// },
];

/** Not code, even with a source extension: docs, CI, build metadata, lockfiles, generated, vendored, media. */
const OTHER_RULES: RegExp[] = [
  /(^|\/)\.(github|gitlab|circleci|buildkite|devcontainer|vscode|idea)\//,
  /(^|\/)(docs?|documentation|examples?|site|website)\//,
  /(^|\/)(vendor|third_party|node_modules)\//,
  /\.(md|markdown|rst|txt|adoc|asciidoc)$/i,
  /(^|\/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS|CHANGELOG|CHANGES|HISTORY|CODEOWNERS)[^/]*$/i,
  /(^|\/)(package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|bun\.lockb|Cargo\.lock|go\.sum|poetry\.lock|uv\.lock|Pipfile\.lock|Gemfile\.lock|composer\.lock|packages\.lock\.json)$/,
  // Build and packaging scripts: they build the code, tests do not exercise them.
  /(^|\/)(setup\.py|noxfile\.py|fabfile\.py|Makefile|GNUmakefile|CMakeLists\.txt|meson\.build|tox\.ini|build\.sbt)$/,
  /(^|\/)[^/]+\.gradle(\.kts)?$|(^|\/)buildSrc\/|^project\/[^/]+\.(scala|sbt)$/,
  /(^|\/)(webpack|rollup|vite|vitest|jest|babel|eslint|prettier|stylelint|tsup|esbuild|postcss|tailwind|playwright|karma|commitlint)\.config\.[cm]?[jt]s$/,
  /(^|\/)(karma\.conf|Gruntfile|gulpfile)\.[cm]?[jt]s$/i,
  // Generated and minified files.
  /(^|\/)(generated|__generated__)\//,
  /\.(min\.js|min\.css|map)$/,
  /\.(pb\.go|pb\.cc|pb\.h|pb\.swift|gen\.\w+|generated\.\w+|g\.cs|designer\.cs)$/i,
  /_pb2(_grpc)?\.pyi?$|_(grpc_)?pb\.(js|d\.ts)$|(^|\/)zz_generated[^/]*\.go$/,
  /\.(png|jpe?g|gif|svg|ico|webp|bmp|pdf|woff2?|ttf|eot|mp[34]|zip|gz|tgz|jar)$/i,
  /(^|\/)\.[^/]+$/, // dotfiles: .gitignore, .editorconfig, .travis.yml …
];

export function languageOf(path: string): Language | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return undefined;
  return EXTENSIONS[base.slice(dot + 1).toLowerCase()];
}

/** The ecosystem rule that makes a path a test, if any (for explanations and tests). */
export function testRuleFor(path: string): TestRule | undefined {
  if (NOT_TEST.some((r) => r.test(path))) return undefined;
  return TEST_RULES.find((r) => r.pattern.test(path));
}

export function classifyPath(path: string): FileKind {
  if (testRuleFor(path)) return "test";
  if (OTHER_RULES.some((r) => r.test(path))) return "other";
  return languageOf(path) ? "code" : "other";
}

/**
 * Languages ranked by weight: number of code files, ties broken by number of test files, then by name.
 * The first is the PR's language. `other` ranks like any language: a PR in shell is an `other` PR.
 */
export function rankLanguages(files: { path: string; kind: FileKind }[]): Language[] {
  const code = new Map<Language, number>();
  const test = new Map<Language, number>();
  for (const f of files) {
    const lang = languageOf(f.path);
    if (!lang) continue;
    if (f.kind === "code") code.set(lang, (code.get(lang) ?? 0) + 1);
    else if (f.kind === "test") test.set(lang, (test.get(lang) ?? 0) + 1);
  }
  const all = new Set([...code.keys(), ...test.keys()]);
  return [...all].sort(
    (a, b) =>
      (code.get(b) ?? 0) - (code.get(a) ?? 0) ||
      (test.get(b) ?? 0) - (test.get(a) ?? 0) ||
      a.localeCompare(b),
  );
}
