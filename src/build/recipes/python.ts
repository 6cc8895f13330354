import type { RepoView } from "../repo.ts";
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

/** Extra deps listed in tox.ini's [testenv] (hints from the project's own CI configuration). */
function toxDeps(view: RepoView): string[] {
  const tox = view.read("tox.ini");
  if (!tox) return [];
  const block = /^\[testenv\]\s*$([\s\S]*?)(^\[|$(?![\s\S]))/m.exec(tox)?.[1] ?? "";
  const deps = /^deps\s*=\s*([\s\S]*?)(^\S|$(?![\s\S]))/m.exec(block)?.[1] ?? "";
  return deps
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("-") && !l.startsWith("#") && !l.includes("{") && !l.includes(":"))
    .filter((l) => /^[A-Za-z0-9_.\-[\]<>=!~, ]+$/.test(l));
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

function pytestCommand(files: string[], extra = ""): string {
  const args = files.map(q).join(" ");
  return `python -m pytest -rA -p no:cacheprovider --tb=short --color=no ${extra}${args}`.trim();
}

function plans({ view, testFiles }: RecipeContext): BuildPlan[] | { unavailable: string } {
  const spec = pythonUnavailable(view);
  if (spec)
    return { unavailable: `requires-python ${spec}, but only Python ${SYSTEM_PYTHON} can be installed` };
  const hasPackage = view.has("pyproject.toml") || view.has("setup.py") || view.has("setup.cfg");
  const pyproject = view.read("pyproject.toml") ?? "";
  const requirements = REQUIREMENT_FILES.filter((f) => view.has(f));
  const extras = testExtras(view);
  const groups = dependencyGroups(view);
  const tox = toxDeps(view);
  const selected = testFiles.filter(isPythonTestFile);
  const test = pytestCommand(selected);
  const common = {
    language: "python" as const,
    refresh: hasPackage
      ? ["pip install -q --no-deps --no-build-isolation -e . || pip install -q --no-deps -e ."]
      : [],
    apt: ["python3", "python3-venv", "python3-dev", "build-essential", "pkg-config"],
    toolchain: ["python3 -m venv /opt/venv", "/opt/venv/bin/pip install -q -U pip setuptools wheel"],
    env: BASE_ENV,
    parser: "pytest",
    toolchainVersions: { python: SYSTEM_PYTHON },
  };
  const reqSteps = requirements.map((f) => `pip install -q -r ${q(f)}`);
  const finish = [
    "pip install -q pytest",
    ...(tox.length ? [`pip install -q ${tox.map(q).join(" ")} || true`] : []),
  ];
  const out: BuildPlan[] = [];

  if (view.has("uv.lock")) {
    out.push({
      ...common,
      name: "python/uv",
      env: {
        ...BASE_ENV,
        UV_PROJECT_ENVIRONMENT: "/opt/venv",
        UV_PYTHON_DOWNLOADS: "never",
        UV_LINK_MODE: "copy",
      },
      install: [
        "pip install -q uv",
        "uv sync --all-extras --dev --frozen || uv sync --all-extras --dev",
        ...finish,
      ],
      test,
    });
  }
  if (/^\[tool\.poetry\]/m.test(pyproject) || view.has("poetry.lock")) {
    const groupsPoetry = ["dev", "test", "tests"].filter((g) =>
      new RegExp(String.raw`^\[tool\.poetry\.group\.${g}\.dependencies\]`, "m").test(pyproject),
    );
    out.push({
      ...common,
      name: "python/poetry",
      env: { ...BASE_ENV, POETRY_VIRTUALENVS_CREATE: "false" },
      install: [
        "pip install -q poetry",
        `poetry install --no-interaction --all-extras${groupsPoetry.length ? ` --with ${groupsPoetry.join(",")}` : ""}`,
        ...finish,
      ],
      test,
    });
  }
  if (hasPackage) {
    const extrasSpec = extras.length ? `[${extras.join(",")}]` : "";
    out.push({
      ...common,
      name: extras.length ? "python/pip-editable-extras" : "python/pip-editable",
      install: [
        ...reqSteps,
        `pip install -q -e ${q(`.${extrasSpec}`)}`,
        ...groups.map((g) => `pip install -q --group ${q(g)}`),
        ...finish,
      ],
      test,
    });
    if (extras.length) {
      out.push({
        ...common,
        name: "python/pip-editable",
        install: [...reqSteps, "pip install -q -e .", ...finish],
        test,
      });
    }
  }
  // Last resort: no package install, the source tree on PYTHONPATH.
  const srcDir = view.files.some((f) => f.startsWith("src/") && f.endsWith(".py")) ? "/testbed/src:" : "";
  out.push({
    ...common,
    name: "python/pythonpath",
    env: { ...BASE_ENV, PYTHONPATH: `${srcDir}/testbed` },
    refresh: [],
    install: [...reqSteps, ...finish],
    test,
  });
  return out;
}

function repair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  const missing = /ModuleNotFoundError: No module named '([A-Za-z0-9_]+)/.exec(failure)?.[1];
  if (missing) {
    const dist = IMPORT_TO_DIST[missing] ?? missing.replace(/_/g, "-");
    const step = `pip install -q ${q(dist)}`;
    if (plan.install.includes(step)) return undefined;
    return { ...plan, name: `${plan.name}+${dist}`, install: [...plan.install, step] };
  }
  if (/unrecognized arguments:|error: unrecognized/.test(failure) && !plan.test.includes("addopts")) {
    return {
      ...plan,
      name: `${plan.name}+no-addopts`,
      test: plan.test.replace("--color=no ", `--color=no -o addopts="" `),
    };
  }
  return undefined;
}

export const python: Recipe = {
  name: "python",
  languages: ["python"],
  detect: (view) =>
    ["pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini", "Pipfile"].some((f) =>
      view.has(f),
    ) || view.files.some((f) => f.endsWith(".py")),
  plans,
  repair,
};
