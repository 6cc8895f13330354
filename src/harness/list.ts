/**
 * Listing the tests a test command would run, without running them, for the runners that can: a table keyed
 * by the parser name (the runner's identity in an Instance). The validate gate's base state reads a listing
 * at the base commit instead of running the tests there N times (src/checks/base-state.ts); a runner without
 * an entry here has its base state run.
 */
import { doctestName } from "./parsers/cargo.ts";
import { lines } from "./parsers/common.ts";

export interface Lister {
  /** The list command for this runner's test command, or undefined when it cannot be derived from it. */
  command(test: string): string | undefined;
  /** The test names a listing printed, named as the runner's log parser names them. */
  parse(output: string): string[];
  /** Whether a test named as the runs name it is among the listed. */
  covers(listed: ReadonlySet<string>, name: string): boolean;
}

const exact = (listed: ReadonlySet<string>, name: string) => listed.has(name);

const GO_TEST = "go test -json -count=1 ";

/**
 * `go test -list .` prints the top-level tests, examples and fuzz targets of each package (subtests are
 * found by running); a subtest is covered when its top-level test is listed.
 */
const goLister: Lister = {
  command: (test) => (test.includes(GO_TEST) ? test.replaceAll(GO_TEST, "go test -list . ") : undefined),
  parse: (out) =>
    lines(out)
      .map((l) => l.trim())
      .filter((l) => /^(Test|Example|Fuzz)\w*$/.test(l)),
  covers: (listed, name) => listed.has(name) || listed.has(name.split("/")[0]!),
};

/**
 * `pytest --collect-only -q` prints one node id per line, as the run's summary names them. At the base
 * commit a test file the PR adds is not there yet, and pytest given a path that does not exist collects
 * nothing at all: the listing keeps only the paths that exist (and lists nothing when none does).
 */
const pytestExisting = (python: string) =>
  [
    "keep=(); paths=0",
    'for a in "$@"; do case "$a" in *.py|*.py::*) [ -e "${a%%::*}" ] && { keep+=("$a"); paths=1; };; *) keep+=("$a");; esac; done',
    '[ "$paths" = 1 ] || exit 5',
    `exec ${python} -m pytest --collect-only -q "\${keep[@]}"`,
  ].join("; ");

const pytestLister: Lister = {
  command: (test) => {
    const m = /^(.*?)((?:\S*\/)?python3?) -m pytest (.*)$/s.exec(test);
    if (!m || m[2]!.includes("'")) return undefined;
    return `${m[1]}bash -c '${pytestExisting(m[2]!)}' sweu-list ${m[3]}`;
  },
  parse: (out) =>
    lines(out)
      .map((l) => l.trim())
      .filter((l) => /^[^\s:]+\.py::\S/.test(l)),
  covers: exact,
};

/** `cargo test -- --list` prints "path::name: test" per test of each binary, doc tests included. */
const cargoLister: Lister = {
  command: (test) =>
    test.startsWith("cargo test ") && !test.includes("&&") && !test.includes(";")
      ? test.includes(" -- ")
        ? `${test} --list`
        : `${test} -- --list`
      : undefined,
  parse: (out) => {
    const names: string[] = [];
    for (const l of lines(out)) {
      const m = /^(.+): test$/.exec(l.trim());
      if (!m) continue;
      names.push(/ - .*\(line \d+\)/.test(m[1]!) ? doctestName(m[1]!) : m[1]!);
    }
    return names;
  },
  covers: exact,
};

export const LISTERS: Record<string, Lister> = {
  "go-test-json": goLister,
  pytest: pytestLister,
  cargo: cargoLister,
};

/** The runner's lister, when it has one. */
export function listerFor(parser: string): Lister | undefined {
  return Object.hasOwn(LISTERS, parser) ? LISTERS[parser] : undefined;
}

/** The list command for a plan's test command, or undefined when its runner cannot list. */
export function listCommand(parser: string, test: string): string | undefined {
  return listerFor(parser)?.command(test);
}
