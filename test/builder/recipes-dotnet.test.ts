import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  dotnet,
  dotnetPlans,
  dotnetTestClasses,
  globalJsonSdk,
  targetFrameworks,
} from "../../src/builder/recipes/dotnet.ts";
import { recipesFor } from "../../src/builder/recipes/index.ts";
import type { BuildPlan, RecipeContext } from "../../src/builder/recipes/types.ts";
import { runStaticChecks } from "../../src/checks/static.ts";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import { parserFor } from "../../src/harness/parse-run.ts";
import type { Task } from "../../src/records/index.ts";
import { memoryView } from "../helpers/view.ts";

const view = memoryView;
const task = { language: "csharp", test_patch: "", patch: "" } as unknown as Task;
const ctx = (files: Record<string, string>, testFiles: string[] = []): RecipeContext => ({
  view: view(files),
  task,
  testFiles,
});
const csproj = (tf: string, plural = false) =>
  `<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><TargetFramework${plural ? "s" : ""}>${tf}</TargetFramework${plural ? "s" : ""}></PropertyGroup></Project>`;

const solution = {
  "Calc.sln": "",
  "src/Calc/Calc.csproj": csproj("netstandard2.0;net6.0", true),
  "tests/Calc.Tests/Calc.Tests.csproj": csproj("net8.0"),
};

describe(".NET versions", () => {
  it("reads the SDK pin from global.json and the runtimes from the target frameworks", () => {
    expect(
      globalJsonSdk(view({ "global.json": '{"sdk":{"version":"8.0.204","rollForward":"latestFeature"}}' })),
    ).toEqual({
      version: "8.0.204",
      rollForward: "latestFeature",
    });
    expect(globalJsonSdk(view({ "global.json": "not json" }))).toEqual({});
    expect(targetFrameworks(view(solution))).toEqual({ channels: ["6.0", "8.0"], framework: [] });
    expect(targetFrameworks(view({ "a/A.csproj": csproj("netcoreapp3.1;net10.0;net48", true) }))).toEqual({
      channels: ["3.1", "10.0"],
      framework: ["net48"],
    });
  });

  it("names the PR's test classes by file name, leaving out assembly boilerplate", () => {
    expect(
      dotnetTestClasses([
        "tests/Calc.Tests/CalcTests.cs",
        "tests/Calc.Tests/Properties/AssemblyInfo.cs",
        "tests/Calc.Tests/GlobalUsings.cs",
        "tests/Calc.Tests/TestData/input.json",
      ]),
    ).toEqual(["CalcTests"]);
  });
});

describe("dotnet recipe", () => {
  it("installs the newest target's SDK plus older runtimes, restores, builds and filters by class", () => {
    const plans = dotnetPlans(
      ctx(solution, ["tests/Calc.Tests/CalcTests.cs", "tests/Calc.Tests/ParseTests.cs"]),
      {
        unreachable: [],
      },
    );
    if ("unavailable" in plans) throw new Error(plans.unavailable);
    const [p] = plans as [BuildPlan];
    expect(p.name).toBe("csharp/dotnet");
    expect(p.toolchain.join("\n")).toContain(
      "dotnet-install.sh --channel 8.0 --install-dir /usr/share/dotnet",
    );
    expect(p.toolchain.join("\n")).toContain("--channel 6.0 --runtime dotnet");
    expect(p.install).toEqual(["dotnet restore Calc.sln", "dotnet build Calc.sln --no-restore"]);
    expect(p.test).toContain("dotnet test Calc.sln --no-restore");
    expect(p.test).toContain("--logger trx");
    expect(p.test).toContain("--filter 'FullyQualifiedName~CalcTests|FullyQualifiedName~ParseTests'");
    expect(p.parser).toBe("dotnet-trx");
    expect(p.toolchainVersions).toEqual({ dotnet: "8.0", runtimes: "6.0" });
  });

  it("pins the exact SDK of global.json, and runs every test without a test class", () => {
    const [p] = dotnetPlans(
      ctx({ "global.json": '{"sdk":{"version":"8.0.204"}}', "A.csproj": csproj("net8.0") }),
      { unreachable: [] },
    ) as BuildPlan[];
    expect(p!.toolchain.join("\n")).toContain("dotnet-install.sh --version 8.0.204");
    expect(p!.toolchain.join("\n")).not.toContain("--runtime");
    expect(p!.test).not.toContain("--filter");
    expect(p!.install).toEqual(["dotnet restore", "dotnet build --no-restore"]);
  });

  it("says plainly when the SDK cannot be had: unreachable hosts, .NET Framework only", () => {
    expect(dotnetPlans(ctx(solution), { unreachable: ["dot.net", "api.nuget.org"] })).toEqual({
      unavailable: expect.stringContaining("dot.net, api.nuget.org cannot be reached from this machine"),
    });
    expect(
      dotnetPlans(ctx({ "Old.csproj": "<TargetFrameworkVersion>v4.7.2</TargetFrameworkVersion>" }), {
        unreachable: [],
      }),
    ).toEqual({
      unavailable: expect.stringContaining(".NET Framework (v4.7.2)"),
    });
  });

  it("is the recipe for C# repositories only", () => {
    expect(recipesFor("csharp", view(solution)).map((r) => r.name)).toEqual(["dotnet"]);
    expect(recipesFor("java", view(solution)).map((r) => r.name)).toEqual([]);
    expect(dotnet.detect(view({ "README.md": "" }))).toBe(false);
  });

  it("prints the TRX inside the test section, keeps the runner's exit code, and passes the static rules", () => {
    const [p] = dotnetPlans(ctx(solution, ["tests/Calc.Tests/CalcTests.cs"]), {
      unreachable: [],
    }) as BuildPlan[];
    const script = renderEvaluationScript(p!);
    const verdicts = runStaticChecks(script, {
      test_files: ["tests/Calc.Tests/CalcTests.cs"],
      code_files: ["src/Calc/Calc.cs"],
      gold_patch: "+        return a + b;\n",
    });
    expect(verdicts.filter((v) => !v.passed)).toEqual([]);
    // No .NET SDK on this machine: a stand-in `dotnet` writes the TRX a failing run writes, and exits 1.
    const dir = mkdtempSync(join(tmpdir(), "sweu-dotnet-"));
    mkdirSync(join(dir, "bin"));
    mkdirSync(join(dir, "testbed"));
    writeFileSync(
      join(dir, "run.trx"),
      readFileSync("test/fixtures/runner-output/dotnet-trx/hand-written.trx"),
    );
    writeFileSync(
      join(dir, "bin", "dotnet"),
      `#!/bin/bash\nwhile [ $# -gt 0 ]; do [ "$1" = --results-directory ] && d="$2"; shift; done\nmkdir -p "$d" && cp ${dir}/run.trx "$d/x.trx"\necho "Failed!  - Failed: 1"\nexit 1\n`,
    );
    chmodSync(join(dir, "bin", "dotnet"), 0o755);
    const r = spawnSync("bash", ["-c", script.replace("cd /testbed", `cd ${dir}/testbed`)], {
      encoding: "utf8",
      env: { ...process.env, SWEU_NONCE: "n2", PATH: `${dir}/bin:${process.env.PATH}` },
    });
    expect(r.status).toBe(1);
    const parsed = parserFor("dotnet-trx")(r.stdout, "n2");
    expect(parsed.parsed).toBe(true);
    expect(parsed.tests.find((t) => t.name.endsWith(".AddsWrong"))?.status).toBe("FAILED");
  });
});
