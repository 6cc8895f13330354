import type { RepoView } from "../view.ts";
import { ownerDir } from "./layout.ts";
import {
  type PythonHints,
  pytestConfigured,
  pythonHints,
  shellWords,
  unittestStyle,
} from "./python-hints.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/** Debian bookworm's Python. Newer interpreters are a toolchain the recipe says it cannot have. */
const SYSTEM_PYTHON = "3.11";

const REQUIREMENT_FILES = [
  "requirements.txt",
  "requirements-dev.txt",
  "requirements_dev.txt",
  "dev-requirements.txt",
  "requirements-test.txt",
  "requirements_test.txt",
  "requirements-tests.txt",
  "test-requirements.txt",
  "tests/requirements.txt",
  "requirements/dev.txt",
  "requirements/test.txt",
  "requirements/tests.txt",
  "requirements/testing.txt",
];
const TEST_EXTRAS = ["test", "tests", "testing", "dev", "develop", "all"];

/** Import names whose PyPI distribution has another name (for the missing-module repair). */
const IMPORT_TO_DIST: Record<string, string> = {
  yaml: "pyyaml",
  PIL: "pillow",
  cv2: "opencv-python-headless",
  sklearn: "scikit-learn",
  bs4: "beautifulsoup4",
  dateutil: "python-dateutil",
  attr: "attrs",
  OpenSSL: "pyopenssl",
  jwt: "pyjwt",
  Crypto: "pycryptodome",
  dotenv: "python-dotenv",
  magic: "python-magic",
  google: "protobuf",
  serial: "pyserial",
  usb: "pyusb",
  git: "gitpython",
  jose: "python-jose",
  multipart: "python-multipart",
  _pytest: "pytest",
};

export function isPythonTestFile(path: string): boolean {
  const base = path.split("/").pop() ?? "";
  if (!base.endsWith(".py") || base === "conftest.py" || base === "__init__.py") return false;
  return /^test_.*\.py$/.test(base) || /_test\.py$/.test(base) || /^tests?\.py$/.test(base);
}

/** Extras declared in pyproject ([project.optional-dependencies]), setup.cfg or setup.py that look test-related. */
function testExtras(view: RepoView): string[] {
  const texts = [view.read("pyproject.toml"), view.read("setup.cfg"), view.read("setup.py")].filter(
    (t): t is string => !!t,
  );
  const found = new Set<string>();
  for (const t of texts) {
    for (const extra of TEST_EXTRAS) {
      const key = new RegExp(String.raw`(^|[\s"'{,])${extra}\s*(=|:|"\s*:|'\s*:|"\s*=)`, "m");
      if (key.test(t)) found.add(extra);
    }
  }
  return TEST_EXTRAS.filter((e) => found.has(e) && e !== "all").slice(0, 2);
}

function dependencyGroups(view: RepoView): string[] {
  const py = view.read("pyproject.toml") ?? "";
  const section = /^\[dependency-groups\]\s*$([\s\S]*?)(^\[|$(?![\s\S]))/m.exec(py)?.[1] ?? "";
  return TEST_EXTRAS.filter((g) => new RegExp(String.raw`^${g}\s*=`, "m").test(section)).slice(0, 2);
}

/** requires-python that excludes the system interpreter, e.g. ">=3.12". */
function pythonUnavailable(view: RepoView): string | undefined {
  const py = view.read("pyproject.toml") ?? "";
  const spec = /requires-python\s*=\s*["']([^"']+)["']/.exec(py)?.[1];
  if (!spec) return undefined;
  const [maj, min] = SYSTEM_PYTHON.split(".").map(Number) as [number, number];
  for (const part of spec.split(",")) {
    const m = /^\s*(>=|>|==|~=)\s*(\d+)\.(\d+)/.exec(part);
    if (!m) continue;
    const want = [Number(m[2]), Number(m[3])] as [number, number];
    const cmp = maj !== want[0] ? maj - want[0] : min - want[1];
    if ((m[1] === ">=" || m[1] === "~=") && cmp < 0) return spec;
    if (m[1] === ">" && cmp <= 0) return spec;
    if (m[1] === "==" && cmp !== 0) return spec;
  }
  return undefined;
}

const BASE_ENV = {
  VIRTUAL_ENV: "/opt/venv",
  PATH: "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  PIP_DISABLE_PIP_VERSION_CHECK: "1",
  PIP_NO_INPUT: "1",
  PYTHONDONTWRITEBYTECODE: "1",
  PYTHONUNBUFFERED: "1",
};

function pytestCommand(files: string[], options: string[] = []): string {
  const args = [...options, ...files.map(q)].join(" ");
  return `python -m pytest -rA -p no:cacheprovider --tb=short --color=no ${args}`.trim();
}

/** Modules unittest can load from the PR's test files: pytest's names plus unittest's own `test*.py`. */
export function isUnittestModule(path: string): boolean {
  const base = path.split("/").pop() ?? "";
  return isPythonTestFile(path) || (/^test\w*\.py$/.test(base) && base !== "__init__.py");
}

/**
 * `tests/test_a.py` → `tests.test_a` (a src/ layout's `src/` dropped), or undefined when the file cannot be
 * imported by that name: a segment that is not an identifier, or (when the tree is known) a directory on
 * the way that is not a regular package.
 */
export function dottedModule(path: string, view?: RepoView): string | undefined {
  const prefix = path.startsWith("src/") && !view?.has("src/__init__.py") ? "src/" : "";
  const parts = path.slice(prefix.length).replace(/\.py$/, "").split("/");
  if (!parts.every((p) => /^[A-Za-z_]\w*$/.test(p))) return undefined;
  for (let i = 1; view && i < parts.length; i++) {
    if (!view.has(`${prefix}${parts.slice(0, i).join("/")}/__init__.py`)) return undefined;
  }
  return parts.join(".");
}

/**
 * `python -m unittest -v` on the dotted modules of the PR's test files; a file that is not importable by a
 * dotted name runs through `discover` from its own directory (which puts that directory on sys.path, as
 * sibling imports of plain test directories expect). No test file: discovery over the whole tree.
 */
export function unittestCommand(files: string[], view?: RepoView): string {
  const modules = files.filter(isUnittestModule);
  if (!modules.length) {
    const loose = ["tests", "test"].find(
      (d) =>
        view?.files.some((f) => f.startsWith(`${d}/`) && f.endsWith(".py")) && !view.has(`${d}/__init__.py`),
    );
    return `python -m unittest discover -v${loose ? ` -s ${loose}` : ""}`;
  }
  const dotted = modules.map((f) => dottedModule(f, view)).filter((m): m is string => !!m);
  const commands = dotted.length ? [`python -m unittest -v ${[...new Set(dotted)].join(" ")}`] : [];
  for (const f of modules.filter((m) => !dottedModule(m, view))) {
    commands.push(`python -m unittest discover -v -s ${q(ownerDir(f) || ".")} -p ${q(f.split("/").pop()!)}`);
  }
  if (commands.length === 1) return commands[0]!;
  return `(rc=0; ${commands.map((c) => `${c} || rc=1`).join("; ")}; exit $rc)`;
}

/** The same environment, tests run by unittest instead of pytest (the image is shared: same install). */
function asUnittest(
  plan: BuildPlan,
  test = unittestCommand(shellWords(plan.test).filter((w) => w.endsWith(".py"))),
): BuildPlan {
  return { ...plan, name: `${plan.name}+unittest`, test, parser: "unittest" };
}

/** One way to install the project; pytest or unittest is added on top. */
interface Install {
  name: string;
  env: Record<string, string>;
  install: string[];
  refresh?: string[];
}

function installs(view: RepoView, hints: PythonHints): Install[] {
  const hasPackage = view.has("pyproject.toml") || view.has("setup.py") || view.has("setup.cfg");
  const pyproject = view.read("pyproject.toml") ?? "";
  const requirements = REQUIREMENT_FILES.filter((f) => view.has(f));
  const extras = [...new Set([...testExtras(view), ...hints.extras])].slice(0, 3);
  const groups = dependencyGroups(view);
  const reqSteps = [
    ...requirements.map((f) => `pip install -q -r ${q(f)}`),
    ...hints.requirements
      .filter((f) => !requirements.includes(f))
      .map((f) => `pip install -q -r ${q(f)} || true`),
  ];
  const out: Install[] = [];
  if (view.has("uv.lock")) {
    out.push({
      name: "python/uv",
      env: {
        ...BASE_ENV,
        UV_PROJECT_ENVIRONMENT: "/opt/venv",
        UV_PYTHON_DOWNLOADS: "never",
        UV_LINK_MODE: "copy",
      },
      // --inexact: an exact sync would uninstall pip from the venv, and the steps after it use pip.
      install: [
        "pip install -q uv",
        "uv sync --all-extras --dev --inexact --frozen || uv sync --all-extras --dev --inexact",
      ],
    });
  }
  if (/^\[tool\.poetry\]/m.test(pyproject) || view.has("poetry.lock")) {
    const groupsPoetry = ["dev", "test", "tests"].filter((g) =>
      new RegExp(String.raw`^\[tool\.poetry\.group\.${g}\.dependencies\]`, "m").test(pyproject),
    );
    out.push({
      name: "python/poetry",
      env: { ...BASE_ENV, POETRY_VIRTUALENVS_CREATE: "false" },
      install: [
        "pip install -q poetry",
        `poetry install --no-interaction --all-extras${groupsPoetry.length ? ` --with ${groupsPoetry.join(",")}` : ""}`,
      ],
    });
  }
  if (hasPackage) {
    const extrasSpec = extras.length ? `[${extras.join(",")}]` : "";
    out.push({
      name: extras.length ? "python/pip-editable-extras" : "python/pip-editable",
      env: BASE_ENV,
      install: [
        ...reqSteps,
        `pip install -q -e ${q(`.${extrasSpec}`)}`,
        ...groups.map((g) => `pip install -q --group ${q(g)}`),
      ],
    });
    if (extras.length)
      out.push({ name: "python/pip-editable", env: BASE_ENV, install: [...reqSteps, "pip install -q -e ."] });
  }
  // Last resort: no package install, the source tree on PYTHONPATH.
  const srcDir = view.files.some((f) => f.startsWith("src/") && f.endsWith(".py")) ? "/testbed/src:" : "";
  out.push({
    name: "python/pythonpath",
    env: { ...BASE_ENV, PYTHONPATH: `${srcDir}/testbed` },
    refresh: [],
    install: reqSteps,
  });
  return out;
}

/**
 * Plans best first. pytest runs the tests unless the project shows no sign of pytest (no conftest.py,
 * pytest.ini, [tool.pytest] section, or pytest in a manifest, requirement file or CI file) and its tests are
 * unittest's: then `python -m unittest` comes first, pytest after it. A pytest project whose PR tests are
 * TestCases gets a unittest run of its first environment as the last variant (same image, no new install).
 */
function plans({ view, task, testFiles }: RecipeContext): BuildPlan[] | { unavailable: string } {
  const spec = pythonUnavailable(view);
  if (spec)
    return { unavailable: `requires-python ${spec}, but only Python ${SYSTEM_PYTHON} can be installed` };
  const hints = pythonHints(view);
  const selected = testFiles.filter(isPythonTestFile);
  const common = {
    language: "python" as const,
    refresh:
      view.has("pyproject.toml") || view.has("setup.py") || view.has("setup.cfg")
        ? ["pip install -q --no-deps --no-build-isolation -e . || pip install -q --no-deps -e ."]
        : [],
    apt: ["python3", "python3-venv", "python3-dev", "build-essential", "pkg-config"],
    toolchain: ["python3 -m venv /opt/venv", "/opt/venv/bin/pip install -q -U pip setuptools wheel"],
    toolchainVersions: { python: SYSTEM_PYTHON },
  };
  // Best effort, all at once, else one by one: a hint pip cannot install costs only itself.
  const pkgs = hints.packages.map(q).join(" ");
  const extra = pkgs
    ? [`pip install -q ${pkgs} || for p in ${pkgs}; do pip install -q "$p" || true; done`]
    : [];
  const bases = installs(view, hints);
  const pytest = bases.map(
    (b): BuildPlan => ({
      ...common,
      ...b,
      install: [...b.install, "pip install -q pytest", ...extra],
      test: pytestCommand(selected, hints.pytestOptions),
      parser: "pytest",
    }),
  );
  const unittestTests = unittestStyle(task.test_patch) || hints.unittest;
  if (unittestTests && !pytestConfigured(view)) {
    const unittest = bases.map(
      (b): BuildPlan => ({
        ...common,
        ...b,
        name: `${b.name}-unittest`,
        install: [...b.install, ...extra],
        test: unittestCommand(testFiles, view),
        parser: "unittest",
      }),
    );
    return [...unittest, ...pytest];
  }
  return unittestTests ? [...pytest, asUnittest(pytest[0]!, unittestCommand(testFiles, view))] : pytest;
}

function repair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  const missing = /ModuleNotFoundError: No module named '([A-Za-z0-9_]+)/.exec(failure)?.[1];
  // A missing module that is the root of the selected test files is the tests' own package, not PyPI's.
  const ownRoot = missing && new RegExp(String.raw`(^|[\s'])(src/)?${missing}[./]`).test(plan.test);
  if (missing && !ownRoot) {
    const dist = IMPORT_TO_DIST[missing] ?? missing.replace(/_/g, "-");
    const step = `pip install -q ${q(dist)}`;
    if (plan.install.includes(step)) return undefined;
    return { ...plan, name: `${plan.name}+${dist}`, install: [...plan.install, step] };
  }
  const pytest = plan.test.includes("-m pytest");
  if (
    pytest &&
    /unrecognized arguments:|error: unrecognized/.test(failure) &&
    !plan.test.includes("addopts")
  ) {
    return {
      ...plan,
      name: `${plan.name}+no-addopts`,
      test: plan.test.replace("--color=no ", `--color=no -o addopts="" `),
    };
  }
  // pytest found nothing to run in the PR's test files: let unittest load them.
  if (pytest && /\bcollected 0 items\b|\bno tests ran\b/.test(failure)) return asUnittest(plan);
  return undefined;
}

export const python: Recipe = {
  name: "python",
  languages: ["python"],
  manifests:
    /(^|\/)(pyproject\.toml|setup\.cfg|setup\.py|tox\.ini|noxfile\.py|pytest\.ini|requirements[^/]*\.(txt|in)|[^/]*requirements\.txt|Pipfile|\.python-version|\.tool-versions|\.github\/workflows\/[^/]+\.ya?ml)$/,
  dependencyFiles:
    /(^|\/)(pyproject\.toml|setup\.py|setup\.cfg|requirements[^/]*\.(txt|in)|[^/]*requirements\.txt|Pipfile(\.lock)?|poetry\.lock|uv\.lock|tox\.ini|\.python-version)$/,
  detect: (view) =>
    ["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini", "Pipfile"].some((f) =>
      view.has(f),
    ) || view.files.some((f) => f.endsWith(".py")),
  plans,
  repair,
};
