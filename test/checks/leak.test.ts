import { describe, expect, it } from "vitest";
import { isOwnPackage, normName, parseHits, placeOf, weighHits } from "../../src/checks/leak.ts";

describe("where a leak probe hit lives", () => {
  it("names the installed package of each ecosystem's layout, else calls it build output", () => {
    expect(placeOf("node_modules/moment/src/locale/be.js")).toEqual({
      kind: "package",
      ecosystem: "node",
      name: "moment",
    });
    expect(placeOf("node_modules/a/node_modules/@scope/pkg/index.js")).toEqual({
      kind: "package",
      ecosystem: "node",
      name: "@scope/pkg",
    });
    expect(placeOf("/opt/venv/lib/python3.11/site-packages/more_itertools/more.py")).toMatchObject({
      ecosystem: "python",
      name: "more_itertools",
    });
    expect(placeOf("/root/go/pkg/mod/github.com/spf13/cobra@v1.8.0/command.go")).toMatchObject({
      ecosystem: "go",
      name: "github.com/spf13/cobra",
    });
    expect(
      placeOf("/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/semver-1.0.20/src/lib.rs"),
    ).toMatchObject({
      ecosystem: "cargo",
      name: "semver",
    });
    expect(placeOf("/root/.m2/repository/org/jsoup/jsoup/1.17.1/jsoup-1.17.1.pom")).toMatchObject({
      ecosystem: "maven",
      name: "jsoup",
    });
    expect(placeOf("dist/index.js")).toEqual({ kind: "build" });
    expect(placeOf("target/debug/build/x/out/gen.rs")).toEqual({ kind: "build" });
  });

  it("tells the repository's own package by its name, as each ecosystem spells it", () => {
    expect(normName("more_itertools-10.1.0.dist-info")).toBe("more-itertools");
    expect(normName("github.com/!burnt!sushi/toml/v2")).toBe("github.com/burntsushi/toml");
    expect(
      isOwnPackage({ kind: "package", ecosystem: "python", name: "more_itertools" }, ["more-itertools"]),
    ).toBe(true);
    expect(isOwnPackage({ kind: "package", ecosystem: "node", name: "moment" }, ["dayjs"])).toBe(false);
    expect(
      isOwnPackage({ kind: "package", ecosystem: "go", name: "github.com/spf13/cobra" }, [
        "github.com/spf13/cobra/v2",
      ]),
    ).toBe(true);
  });
});

describe("weighing the hits", () => {
  const lines = [
    "line one of the fix, long enough",
    "line two of the fix, long enough",
    "line three of the fix, longer",
    "line four: data",
  ];
  const hit = (file: string, i: number) => ({ file, line: lines[i]! });

  it("reads the search's output back into file and line, whatever colons the line holds", () => {
    const out = `SWEU-LEAK-HIT dist/a.js:${lines[3]}\nSWEU-LEAK-HIT node_modules/x/a.js:${lines[0]}\nnoise\n`;
    expect(parseHits(out, lines)).toEqual([hit("dist/a.js", 3), hit("node_modules/x/a.js", 0)]);
  });

  it("the repository's own code: two lines are a leak, one of several is not", () => {
    expect(weighHits([hit("dist/a.js", 0), hit("dist/a.js", 1)], 4, []).passed).toBe(false);
    expect(
      weighHits([hit("node_modules/dayjs/esm/a.js", 0), hit("node_modules/dayjs/esm/b.js", 1)], 4, ["dayjs"]),
    ).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/own installed package/),
    });
    expect(weighHits([hit("dist/a.js", 0)], 4, [])).toMatchObject({
      passed: true,
      reason: expect.stringMatching(/too little/),
    });
    // The only line of a one-line fix, in build output, is the fix.
    expect(weighHits([hit("dist/a.js", 0)], 1, []).passed).toBe(false);
  });

  it("another package: evidence, unless it holds a good part of the fix", () => {
    expect(weighHits([hit("node_modules/moment/src/locale/be.js", 0)], 1, ["dayjs"])).toMatchObject({
      passed: true,
      reason: expect.stringMatching(/evidence, not a leak: .*node:moment: 1 of 1/),
    });
    const copy = [0, 1, 2].map((i) => hit("node_modules/dayjs-fork/index.js", i));
    expect(weighHits(copy, 4, ["dayjs"])).toMatchObject({
      passed: false,
      reason: expect.stringMatching(/another package, node:dayjs-fork \(a copy of the fix\)/),
    });
    expect(weighHits(copy.slice(0, 2), 4, ["dayjs"]).passed).toBe(true);
  });
});
