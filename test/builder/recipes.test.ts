import { describe, expect, it } from "vitest";
import { renderDockerfile } from "../../src/builder/dockerfile.ts";
import { node } from "../../src/builder/recipes/node.ts";
import { isPythonTestFile, python } from "../../src/builder/recipes/python.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { nodeRange, resolveNode } from "../../src/builder/toolchains.ts";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import type { Task } from "../../src/records/index.ts";
import { memoryView } from "../helpers/view.ts";

const view = memoryView;
const task = { language: "python", test_patch: "", patch: "" } as unknown as Task;

describe("python recipe", () => {
  it("installs the package editable with its test extras, then pytest on the PR's test files", async () => {
    const v = view({
      "pyproject.toml":
        '[project]\nname = "x"\n[project.optional-dependencies]\ntest = ["pytest"]\ndev = ["black"]\n',
      "requirements-dev.txt": "mock\n",
      "tox.ini": "[testenv]\ndeps =\n    hypothesis\n    -rrequirements.txt\ncommands = pytest\n",
    });
    const plans = (await python.plans({
      view: v,
      task,
      testFiles: ["tests/test_a.py", "tests/conftest.py", "docs/x.md"],
    })) as BuildPlan[];
    expect(plans[0]!.name).toBe("python/pip-editable-extras");
    expect(plans[0]!.install).toContain("pip install -q -r requirements-dev.txt");
    expect(plans[0]!.install).toContain("pip install -q -e '.[test,dev]'");
    expect(plans[0]!.install.some((s) => s.includes("hypothesis"))).toBe(true);
    expect(plans[0]!.test).toMatch(/pytest -rA .* tests\/test_a\.py$/);
    expect(plans.at(-1)!.name).toBe("python/pythonpath");
  });

  it("prefers uv and poetry when their lockfiles are there", async () => {
    const uv = (await python.plans({
      view: view({ "pyproject.toml": "[project]\n", "uv.lock": "" }),
      task,
      testFiles: [],
    })) as BuildPlan[];
    expect(uv[0]!.name).toBe("python/uv");
    const poetry = (await python.plans({
      view: view({
        "pyproject.toml": "[tool.poetry]\nname='x'\n[tool.poetry.group.dev.dependencies]\npytest='*'\n",
        "poetry.lock": "",
      }),
      task,
      testFiles: [],
    })) as BuildPlan[];
    expect(poetry[0]!.name).toBe("python/poetry");
    expect(poetry[0]!.install.join("\n")).toContain("--with dev");
  });

  it("says plainly when the Python the project asks for cannot be had", async () => {
    const r = await python.plans({
      view: view({ "pyproject.toml": 'requires-python = ">=3.13"\n' }),
      task,
      testFiles: [],
    });
    expect(r).toEqual({ unavailable: expect.stringContaining(">=3.13") });
  });

  it("repairs a missing module by installing its distribution, once", () => {
    const plan = {
      name: "p",
      install: ["pip install -q pytest"],
      test: "python -m pytest -rA --color=no x",
    } as BuildPlan;
    const fixed = python.repair!(plan, "E   ModuleNotFoundError: No module named 'yaml'\n");
    expect(fixed!.install.at(-1)).toBe("pip install -q pyyaml");
    expect(python.repair!(fixed!, "ModuleNotFoundError: No module named 'yaml'")).toBeUndefined();
    expect(python.repair!(plan, "error: unrecognized arguments: --cov")!.test).toContain('-o addopts=""');
  });

  it("knows test modules from helpers", () => {
    expect(["tests/test_a.py", "pkg/a_test.py", "test.py"].every(isPythonTestFile)).toBe(true);
    expect(["tests/conftest.py", "tests/__init__.py", "tests/helpers.py"].some(isPythonTestFile)).toBe(false);
  });
});

describe("node recipe", () => {
  it("reads the Node version from .nvmrc / engines and pins a published release", async () => {
    expect(nodeRange("v18.17.0")).toBe("18.17.0");
    expect(nodeRange("lts/hydrogen")).toBe("18");
    expect(nodeRange(">=14 <17")).toBe(">=14 <17");
    expect(nodeRange("garbage!")).toBeUndefined();
    const v = await resolveNode(">=14 <17");
    expect(v).toMatch(/^16\.\d+\.\d+$/);
    expect(await resolveNode("^99")).toBeUndefined();
  });

  it("chooses package manager and runner from lockfiles and scripts", async () => {
    const v = view({
      "package.json": JSON.stringify({
        scripts: { test: "jest" },
        devDependencies: { jest: "^29" },
        packageManager: "pnpm@8.15.4",
      }),
      "pnpm-lock.yaml": "lockfileVersion: '6.0'\n",
    });
    const plans = (await node.plans({
      view: v,
      task: { ...task, language: "typescript" },
      testFiles: ["src/__tests__/a.test.ts", "src/a.ts"],
    })) as BuildPlan[];
    expect(plans[0]!.language).toBe("typescript");
    expect(plans[0]!.install).toEqual([
      "npm install -g --no-audit --no-fund pnpm@8.15.4",
      "pnpm install --frozen-lockfile",
    ]);
    expect(plans[0]!.test).toBe("npx jest --ci --verbose --runTestsByPath src/__tests__/a.test.ts");
    expect(plans[0]!.parser).toBe("jest");
    expect(plans.some((p) => p.install.includes("pnpm install --no-frozen-lockfile"))).toBe(true);
  });

  it("drops a changed spec that holds no tests from the selection and runs the rest", () => {
    const plan = {
      name: "node/npm-strict/vitest",
      parser: "vitest",
      test: "npx vitest run --reporter=verbose src/cases.spec.ts",
    } as BuildPlan;
    const fixed = node.repair!(
      plan,
      "FAIL  src/cases.spec.ts [ src/cases.spec.ts ]\nError: No test suite found in file /testbed/src/cases.spec.ts\n",
    );
    expect(fixed!.test).toBe("npx vitest run --reporter=verbose --exclude src/cases.spec.ts");
    expect(node.repair!(fixed!, "Tests 1 failed")).toBeUndefined();
    const jest = {
      name: "j",
      parser: "jest",
      test: "npx jest --ci --verbose --runTestsByPath test/a.test.js test/table.test.js",
    } as BuildPlan;
    const j = node.repair!(
      jest,
      "FAIL test/table.test.js\n  ● Test suite failed to run\n\n    Your test suite must contain at least one test.\n",
    );
    expect(j!.test).toBe(
      "npx jest --ci --verbose --runTestsByPath test/a.test.js --testPathIgnorePatterns test/table.test.js",
    );
  });

  it("has nothing to offer a package without any test runner", async () => {
    const plans = await node.plans({
      view: view({ "package.json": '{"scripts":{"test":"echo \\"Error: no test specified\\" && exit 1"}}' }),
      task,
      testFiles: [],
    });
    expect(plans).toEqual([]);
  });
});

describe("rendering", () => {
  const plan: BuildPlan = {
    name: "python/x",
    language: "python",
    apt: ["python3"],
    toolchain: ["python3 -m venv /opt/venv"],
    env: { PATH: "/opt/venv/bin:$PATH" },
    install: ["pip install -e ."],
    test: "python -m pytest -rA tests/test_a.py",
    parser: "pytest",
    toolchainVersions: {},
  };
  it("orders Dockerfile layers from shared to specific", () => {
    const df = renderDockerfile({ baseImage: "localhost/base:1", plan, caDir: "certs" });
    const at = (s: string) => df.indexOf(s);
    expect(at("FROM localhost/base:1")).toBe(0);
    expect(at("COPY certs/")).toBeLessThan(at("apt-get install"));
    expect(at("python3 -m venv")).toBeLessThan(at("COPY testbed /testbed"));
    expect(at("COPY testbed /testbed")).toBeLessThan(at("RUN pip install -e ."));
  });
  it("writes an evaluation.sh that brackets the test output and answers with the runner's exit code", () => {
    const s = renderEvaluationScript({ ...plan, junit: "/tmp/j.xml" });
    expect(s).toContain("unset SWEU_NONCE");
    expect(s).toContain('export PATH="/opt/venv/bin:$PATH"');
    expect(s.indexOf("SWEU TEST OUTPUT START")).toBeLessThan(s.indexOf("python -m pytest"));
    expect(s).toMatch(/python -m pytest -rA tests\/test_a\.py 2>&1\nrc=\$\?/);
    expect(s).toContain("SWEU JUNIT START");
    expect(s.trim().endsWith("exit $rc")).toBe(true);
  });
});
