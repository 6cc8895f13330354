import type { RepoView } from "../view.ts";

/**
 * What a Python project's own CI configuration says about its test environment: tox.ini [testenv] deps,
 * noxfile.py `session.install(...)` / `session.run("pytest", ...)`, and GitHub workflow `pip install` and
 * `pytest` lines. The recipe turns these into install steps; nothing here runs anything.
 */
export interface PythonHints {
  /** Distributions the CI installs besides the package itself (best effort: installed with `|| true`). */
  packages: string[];
  /** Requirement files the CI installs with `-r` that exist in the repository. */
  requirements: string[];
  /** Extras the CI installs the package with (`-e .[test]`). */
  extras: string[];
  /** pytest options from the CI's invocation that pytest itself knows (import mode, disabled plugins). */
  pytestOptions: string[];
  /** The CI runs `python -m unittest` (or `setup.py test`). */
  unittest: boolean;
}

/** Installed for other reasons than the tests (packaging, linting, CI drivers): never a hint. */
const NOT_TEST_DEPS = new Set([
  "pip",
  "setuptools",
  "wheel",
  "tox",
  "nox",
  "build",
  "twine",
  "virtualenv",
  "pre-commit",
  "codecov",
  "coveralls",
  "uv",
  "poetry",
  "pipenv",
  "hatch",
  "flit",
  "flake8",
  "black",
  "mypy",
  "ruff",
  "pylint",
  "isort",
  "bandit",
  "sphinx",
  "check-manifest",
]);
/** Extras a CI installs for jobs other than the tests. */
const NOT_TEST_EXTRAS = /^(docs?|lint|linting|typing|mypy|style|build|release|publish)$/;
const SPEC = /^[A-Za-z][A-Za-z0-9_.-]*(\[[A-Za-z0-9_,.-]+\])?([<>=!~]=?[A-Za-z0-9_.*+!,<>=~-]*)?$/;
const WORKFLOW = /^\.github\/workflows\/[^/]+\.ya?ml$/;

/** Words of one shell command line: quotes removed, stopping at the first operator, redirection or comment. */
export function shellWords(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) break;
      word += line.slice(i + 1, end);
      has = true;
      i = end;
    } else if (c === "\\") {
      word += line[++i] ?? "";
      has = true;
    } else if (/\s/.test(c)) {
      if (has) out.push(word);
      word = "";
      has = false;
    } else if (/[;&|<>]/.test(c) || (c === "#" && !has)) break;
    else {
      word += c;
      has = true;
    }
  }
  if (has) out.push(word);
  return out;
}

interface PipArgs {
  packages: string[];
  requirements: string[];
  extras: string[];
}

/** Read `pip install` arguments: requirement files, extras of the project itself, other distributions. */
export function pipArgs(args: string[]): PipArgs {
  const out: PipArgs = { packages: [], requirements: [], extras: [] };
  const self = (target: string) => {
    const m = /^\.\/?(?:\[([^\]]*)\])?$/.exec(target);
    if (m)
      out.extras.push(
        ...(m[1] ?? "")
          .split(",")
          .map((e) => e.trim())
          .filter(Boolean),
      );
    return !!m;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/[$`*{}]/.test(a)) continue;
    if (a === "-r" || a === "--requirement") out.requirements.push(args[++i] ?? "");
    else if (/^(-r|--requirement=)./.test(a)) out.requirements.push(a.replace(/^(-r|--requirement=)/, ""));
    else if (a === "-e" || a === "--editable") self(args[++i] ?? "");
    else if (/^(-c|--constraint|-i|--index-url|--extra-index-url|-f|--find-links|--target|-t)$/.test(a)) i++;
    else if (a.startsWith("-")) continue;
    else if (self(a)) continue;
    else if (SPEC.test(a) && !NOT_TEST_DEPS.has(a.split(/[[<>=!~]/)[0]!.toLowerCase())) out.packages.push(a);
  }
  out.requirements = out.requirements
    .filter((r) => r && !/[$`*{}]/.test(r))
    .map((r) => r.replace(/^\.\//, ""));
  return out;
}

/** Options of a pytest command line worth keeping: only ones core pytest knows and that select no tests. */
export function pytestOptions(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (/^--import-mode=(prepend|append|importlib)$/.test(a)) out.push(a);
    else if (a === "--import-mode" && /^(prepend|append|importlib)$/.test(args[i + 1] ?? ""))
      out.push(`--import-mode=${args[++i]}`);
    else if (a === "-p" && /^no:[\w.-]+$/.test(args[i + 1] ?? "") && args[i + 1] !== "no:cacheprovider")
      out.push(`-p ${args[++i]}`);
  }
  return out;
}

/** tox.ini [testenv] deps: requirement lines and `-r` files (factor-conditional lines left out). */
export function toxDeps(view: RepoView): PipArgs {
  const deps = /^deps\s*=\s*([\s\S]*?)(^\S|$(?![\s\S]))/m.exec(toxSection(view))?.[1] ?? "";
  const lines = deps
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#") && !l.includes("{") && !l.includes(":"));
  return {
    packages: lines.filter((l) => !l.startsWith("-") && /^[A-Za-z0-9_.\-[\]<>=!~, ]+$/.test(l)),
    requirements: lines.filter((l) => l.startsWith("-r")).flatMap((l) => pipArgs(shellWords(l)).requirements),
    extras: [],
  };
}

function toxSection(view: RepoView): string {
  const tox = view.read("tox.ini") ?? "";
  return /^\[testenv\]\s*$([\s\S]*?)(^\[|$(?![\s\S]))/m.exec(tox)?.[1] ?? "";
}

/** The string-literal arguments of every `session.<method>(...)` call in a noxfile, call by call. */
export function noxCalls(source: string, method: "install" | "run"): string[][] {
  const calls: string[][] = [];
  const head = new RegExp(String.raw`\bsession\.${method}\(`, "g");
  for (const m of source.matchAll(head)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    let quote: string | undefined;
    for (; i < source.length && depth > 0; i++) {
      const c = source[i]!;
      if (quote) {
        if (c === "\\") i++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "(" || c === "[") depth++;
      else if (c === ")" || c === "]") depth--;
    }
    const body = source.slice(start, i - 1);
    // Literal arguments only: f-strings, variables and splats name nothing we can read.
    // A literal is an argument when it stands alone between commas (not inside a nested call).
    const args = [...body.matchAll(/(^|[,\s])([rbfu]*)(["'])((?:\\.|(?!\3).)*)\3(?=\s*(,|$))/g)]
      .filter((a) => !a[2]!.includes("f"))
      .map((a) => a[4]!);
    calls.push(args);
  }
  return calls;
}

/** Command lines of the GitHub workflows, `\` continuations joined, the leading `run:` / `- ` removed. */
function workflowLines(view: RepoView): string[] {
  const out: string[] = [];
  for (const f of view.files.filter((p) => WORKFLOW.test(p))) {
    // An expression `${{ matrix.x }}` is one unknown word, never read as a package.
    const text = (view.read(f) ?? "").replace(/\\\n\s*/g, " ").replace(/\$\{\{.*?\}\}/g, "$GITHUB_EXPR");
    for (const raw of text.split("\n")) out.push(raw.replace(/^\s*(?:-\s+)?(?:run:\s*)?/, "").trim());
  }
  return out;
}

const PIP_INSTALL = /(?:^|[\s;&|(])(?:(?:python[\d.]*|py)\s+-m\s+pip|pip[\d.]*|uv\s+pip)\s+install\s+(.*)$/;
const PYTEST_RUN = /(?:^|[\s;&|(])(?:(?:python[\d.]*)\s+-m\s+pytest|pytest|py\.test)(?:\s+(.*))?$/;

/** Everything the CI configuration says, deduplicated; requirement files only when they exist. */
export function pythonHints(view: RepoView): PythonHints {
  const pip: PipArgs[] = [toxDeps(view)];
  const options: string[][] = [];
  const nox = view.read("noxfile.py") ?? "";
  for (const args of noxCalls(nox, "install")) pip.push(pipArgs(args));
  for (const args of noxCalls(nox, "run")) {
    const at = args.findIndex((a, i) => a === "install" && /^pip\d?$/.test(args[i - 1] ?? ""));
    if (at >= 0) pip.push(pipArgs(args.slice(at + 1)));
    const py = args.findIndex((a) => a === "pytest" || a === "py.test");
    if (py >= 0) options.push(pytestOptions(args.slice(py + 1)));
  }
  const lines = workflowLines(view);
  for (const line of toxSection(view).split("\n").concat(lines)) {
    const install = PIP_INSTALL.exec(line);
    if (install) pip.push(pipArgs(shellWords(install[1]!)));
    const pytest = PYTEST_RUN.exec(line);
    if (pytest) options.push(pytestOptions(shellWords(pytest[1] ?? "")));
  }
  const uniq = (xs: string[]) => [...new Set(xs)];
  const ci = [nox, view.read("tox.ini") ?? "", view.read("Makefile") ?? "", ...lines].join("\n");
  return {
    packages: uniq(pip.flatMap((p) => p.packages)).slice(0, 24),
    requirements: uniq(pip.flatMap((p) => p.requirements)).filter((r) => view.has(r)),
    extras: uniq(pip.flatMap((p) => p.extras)).filter((e) => !NOT_TEST_EXTRAS.test(e)),
    pytestOptions: uniq(options.flat()),
    unittest: /-m\s+unittest\b|\bunittest\s+discover\b|\bsetup\.py\s+test\b/.test(ci),
  };
}

/**
 * Whether the project uses pytest at all: a conftest.py or pytest.ini, a [tool.pytest…] / [tool:pytest] /
 * [pytest] section, or pytest named in a manifest, a requirement file or the CI configuration.
 */
export function pytestConfigured(view: RepoView): boolean {
  if (view.files.some((f) => /(^|\/)(conftest\.py|pytest\.ini)$/.test(f))) return true;
  const texts = view.files
    .filter(
      (f) =>
        /^(pyproject\.toml|setup\.cfg|setup\.py|tox\.ini|noxfile\.py|Pipfile|Makefile)$/.test(f) ||
        /(^|\/)[^/]*requirements[^/]*\.(txt|in)$/.test(f) ||
        /(^|\/)requirements\/[^/]+\.(txt|in)$/.test(f) ||
        WORKFLOW.test(f),
    )
    .map((f) => view.read(f) ?? "");
  return texts.some((t) => /\bpy\.?test\b/.test(t));
}

/** Whether the PR's tests are written for unittest: TestCase classes, unittest imports, self.assert… calls. */
export function unittestStyle(testPatch: string): boolean {
  return /\bimport unittest\s*$|\bunittest\.(TestCase|main|skip|expectedFailure)\b|\bTestCase\b|\bself\.assert[A-Z]\w*\(/m.test(
    testPatch,
  );
}
