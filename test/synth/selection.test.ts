import { describe, expect, it } from "vitest";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import { implicatedFiles, lastNamedFile } from "../../src/synth/baseline.ts";
import { middles, narrowSelection, widenSelection } from "../../src/synth/selection.ts";
import { makeEnvironment, makeInstance, makeTask } from "../export/fixtures.ts";
import { memoryView } from "../helpers/view.ts";

const PYPROJECT =
  '[project]\nname = "calc"\nversion = "0.1.0"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n';

function fixture(command: (files: string) => string) {
  const view = memoryView({
    "pyproject.toml": PYPROJECT,
    "calc/ops.py": "",
    "tests/test_ops.py": "",
    "tests/test_spin.py": "",
    "tests/conftest.py": "",
  });
  const testPatch =
    "diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n+++ b/tests/test_ops.py\n@@ -1 +1,2 @@\n x\n+y\n";
  const task = { ...makeTask(3), test_patch: testPatch };
  const env = {
    ...makeEnvironment("k", "img"),
    language: "python" as const,
    recipe: "python/pip-editable+no-addopts",
  };
  const script = renderEvaluationScript({ env: { A: "1" }, test: command("tests/test_ops.py") });
  const inst = { ...makeInstance({ instance_id: task.instance_id }), evaluation_script: script };
  return { view, task, env, inst };
}

describe("the synthetic verifier: the environment's own script, its selection widened", () => {
  it("middles: what differs between two commands, cut at word boundaries", () => {
    expect(middles("pytest -q tests/a.py", "pytest -q tests/a.py tests/b.py")).toEqual([
      "tests/a.py",
      "tests/a.py tests/b.py",
    ]);
    expect(
      middles(
        "go test ./x && test -e x/a_test.go",
        "go test ./x ./y && test -e x/a_test.go -a -e y/b_test.go",
      ),
    ).toEqual(["&& test -e x/a_test.go", "./y && test -e x/a_test.go -a -e y/b_test.go"]);
  });

  it("widens the PR's test files to the repository's and keeps what the builder repaired in the script", async () => {
    // The builder dropped addopts (a repair): the widened script keeps that and runs both test files.
    const x = fixture(
      (files) => `python -m pytest -rA -p no:cacheprovider --tb=short --color=no -o addopts="" ${files}`,
    );
    const sel = await widenSelection(x);
    expect(sel.wide).toBe(true);
    // conftest.py is no test module: the recipe leaves it out of pytest's arguments.
    expect(sel.script).toContain('-o addopts="" tests/test_ops.py tests/test_spin.py 2>&1');
    expect(sel.script).toContain('export A="1"');
    expect(sel.testFiles).toEqual(["tests/conftest.py", "tests/test_ops.py", "tests/test_spin.py"]);
    const narrow = await narrowSelection(x, new Set(["tests/test_spin.py"]));
    expect(narrow.script).toContain('-o addopts="" tests/test_ops.py 2>&1');
  });

  it("keeps the PR's own selection when the script is not what the recipe plans", async () => {
    const x = fixture(() => "./run-tests.sh");
    const sel = await widenSelection(x);
    expect([sel.wide, sel.script]).toEqual([false, x.inst.evaluation_script]);
    expect(sel.note).toMatch(/own selection/);
  });

  it("points failing tests at their files: pytest node ids, Go packages, file stems", () => {
    const files = ["tests/test_ops.py", "tests/test_spin.py", "pkg/a_test.go", "src/__tests__/parse.test.ts"];
    expect([...implicatedFiles(["tests/test_spin.py::test_zero"], files)]).toEqual(["tests/test_spin.py"]);
    expect([...implicatedFiles(["pkg/TestA"], files)]).toEqual(["pkg/a_test.go"]);
    expect([...implicatedFiles(["parse.test > handles x"], files)]).toEqual(["src/__tests__/parse.test.ts"]);
    expect(implicatedFiles(["TestSomethingElse"], files).size).toBe(0);
  });

  it("blames the file a run that died names last (pytest killed mid-file, no summary, nothing failing)", () => {
    const files = ["tests/test_termui.py", "tests/test_utils.py", "tests/test_types.py"];
    const log = [
      "tests/test_types.py ........",
      "tests/test_termui.py ......sss.....",
      "tests/test_utils.py .......Exception ignored in: <_io.FileIO name=14 mode='rb+' closefd=True>",
      "ResourceWarning: unclosed file",
    ].join("\n");
    expect(lastNamedFile(log, files)).toBe("tests/test_utils.py");
    expect(lastNamedFile("collected 0 items", files)).toBeUndefined();
  });
});
