import { describe, expect, it } from "vitest";
import { isDependencyFile, isManifest, isOverlayFile } from "../../src/builder/manifests.ts";
import { RECIPES } from "../../src/builder/recipes/index.ts";

describe("manifests come from the recipes", () => {
  it("every recipe declares what it reads and what decides environment reuse", () => {
    for (const r of RECIPES) {
      expect(r.manifests, r.name).toBeInstanceOf(RegExp);
      expect(r.dependencyFiles, r.name).toBeInstanceOf(RegExp);
    }
  });

  it("knows each ecosystem's manifests and lockfiles, three folders deep at most", () => {
    const deps = [
      "package-lock.json",
      "py/requirements-dev.txt",
      "go.sum",
      "crates/x/Cargo.lock",
      "pom.xml",
      "gradle/wrapper/gradle-wrapper.properties",
      "src/App.csproj",
      "CMakeLists.txt",
      "uv.lock",
    ];
    for (const f of deps) expect(isDependencyFile(f), f).toBe(true);
    const readOnly = [
      ".github/workflows/ci.yml",
      "jest.config.js",
      "noxfile.py",
      "Makefile",
      "justfile",
      "configure.ac",
    ];
    for (const f of readOnly) expect([isManifest(f), isDependencyFile(f)], f).toEqual([true, false]);
    for (const f of ["src/app.py", "a/b/c/package.json", "README.md", "docs/conf.py"])
      expect([isManifest(f), isDependencyFile(f)], f).toEqual([false, false]);
  });

  it("installs the fix's dependency manifests from the resolved commit, but not build scripts that list sources", () => {
    for (const f of ["package.json", "pyproject.toml", "Cargo.toml", "go.mod", "pom.xml"])
      expect(isOverlayFile(f), f).toBe(true);
    // uriparser #298: the resolved CMakeLists.txt names test/CompareRangeLengthWrap.cpp, which the base lacks
    for (const f of ["CMakeLists.txt", "src/CMakeLists.txt", "meson.build"]) {
      expect(isDependencyFile(f), f).toBe(true);
      expect(isOverlayFile(f), f).toBe(false);
    }
  });
});
