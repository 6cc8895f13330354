import { describe, expect, it } from "vitest";
import { renderDockerfile } from "../../src/builder/dockerfile.ts";
import {
  debianGo,
  go,
  goProxyUrl,
  goTestCommand,
  goTestPackages,
  goWanted,
  resolveGo,
} from "../../src/builder/recipes/go.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { fakeTask, memoryView } from "../helpers/view.ts";

describe("go recipe: toolchain", () => {
  it("reads the toolchain line first, then the go line", () => {
    expect(goWanted("module m\n\ngo 1.21\n\ntoolchain go1.22.4\n")).toEqual({
      version: "1.22.4",
      exact: true,
    });
    expect(goWanted("module m\n\ngo 1.22\n")).toEqual({ version: "1.22", exact: false });
    expect(goWanted("module m\n\ngo 1.22.3\n")).toEqual({ version: "1.22.3", exact: true });
    // Before 1.21 the go line named a language version, not a release: a newer compiler serves.
    expect(goWanted("module m\ngo 1.16\n")).toEqual({ version: "1.22", exact: false });
    expect(goWanted("module m\ngo 1.20\n")).toEqual({ version: "1.22", exact: false });
    expect(goWanted("module m\n")).toBeUndefined();
    expect(goWanted(undefined)).toBeUndefined();
  });

  it("takes the first URL of GOPROXY, defaulting to proxy.golang.org", () => {
    expect(goProxyUrl(undefined)).toBe("https://proxy.golang.org");
    expect(goProxyUrl("direct")).toBe("https://proxy.golang.org");
    expect(goProxyUrl("https://goproxy.example.com/,direct")).toBe("https://goproxy.example.com");
    expect(goProxyUrl("off|https://m.example/x")).toBe("https://m.example/x");
  });

  it("resolves versions against the module proxy's toolchain modules", async () => {
    expect(await resolveGo({ version: "1.22.3", exact: true })).toBe("1.22.3");
    const latest122 = await resolveGo({ version: "1.22", exact: false });
    expect(latest122).toMatch(/^1\.22\.(\d+)$/);
    expect(Number(latest122!.split(".")[2])).toBeGreaterThanOrEqual(12);
    expect(await resolveGo({ version: "1.99.1", exact: true })).toBeUndefined();
    expect(await resolveGo({ version: "1.99", exact: false })).toBeUndefined();
  }, 60_000);

  it("falls back to Debian's Go that covers the minor", () => {
    expect(debianGo("1.16")).toMatchObject({ pkg: "golang-1.19-go", backports: false });
    expect(debianGo("1.20")).toMatchObject({ pkg: "golang-1.21-go", backports: true });
    expect(debianGo("1.23.1")).toMatchObject({ pkg: "golang-1.23-go" });
    expect(debianGo("1.24")).toBeUndefined();
  });

  it("says plainly when a Go version cannot be had", async () => {
    const r = await go.plans({
      view: memoryView({ "go.mod": "module m\n\ngo 1.99.1\n" }),
      task: fakeTask("go"),
      testFiles: [],
    });
    expect(r).toEqual({
      unavailable: expect.stringMatching(/Go 1\.99\.1 is neither on the Go module proxy/),
    });
  }, 60_000);
});

describe("go recipe: test selection and plans", () => {
  const files = {
    "go.mod": "module example.com/m\n\ngo 1.22\n",
    "a/a.go": "",
    "a/a_test.go": "",
    "b/c/c_test.go": "",
    "b/c/testdata/golden.txt": "",
    "b/c/c.go": "",
    "tools/go.mod": "module example.com/m/tools\n\ngo 1.22\n",
    "tools/gen/gen_test.go": "",
    "root_test.go": "",
  };
  const view = memoryView(files);

  it("runs the packages of the PR's test files, grouped by module", () => {
    const pk = goTestPackages(view, ["a/a_test.go", "b/c/testdata/golden.txt", "README.md"]);
    expect([...pk.entries()]).toEqual([["", ["./a", "./b/c"]]]);
    expect(goTestCommand(pk)).toBe("go test -json -count=1 ./a ./b/c");
    expect(goTestCommand(pk, ["a/a_test.go", "b/c/testdata/golden.txt"])).toBe(
      "go test -json -count=1 ./a ./b/c && test -e a/a_test.go",
    );
    expect(goTestCommand(goTestPackages(view, ["root_test.go"]))).toBe("go test -json -count=1 .");
    const multi = goTestPackages(view, ["a/a_test.go", "tools/gen/gen_test.go"]);
    expect([...multi.entries()]).toEqual([
      ["", ["./a"]],
      ["tools", ["./gen"]],
    ]);
    expect(goTestCommand(multi)).toBe(
      "bash -c 'rc=0; (cd /testbed/ && go test -json -count=1 ./a) || rc=1; (cd /testbed/tools && go test -json -count=1 ./gen) || rc=1; exit $rc'",
    );
    expect(goTestCommand(new Map())).toBe("go test -json -count=1 ./...");
  });

  it("plans the proxy toolchain first, Debian's Go second, offline evaluation", async () => {
    const plans = (await go.plans({ view, task: fakeTask("go"), testFiles: ["a/a_test.go"] })) as BuildPlan[];
    expect(plans.map((p) => p.name)).toEqual(["go/proxy-toolchain", "go/debian-1.22"]);
    const [proxy, deb] = plans as [BuildPlan, BuildPlan];
    expect(proxy.toolchain[0]).toMatch(/golang\.org\/toolchain\/@v\/v0\.0\.1-go1\.22\.\d+\.linux-amd64\.zip/);
    expect(proxy.env).toMatchObject({ GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "-mod=mod" });
    expect(proxy.install[0]).toMatch(/^GOPROXY=.*go mod download$/);
    expect(proxy.install[1]).toContain("go test -count=1 -run '^$' ./...");
    expect(proxy.test).toBe("go test -json -count=1 ./a && test -e a/a_test.go");
    expect(proxy.parser).toBe("go-test-json");
    expect(deb.toolchain[0]).toContain("-t bookworm-backports golang-1.22-go");
    expect(deb.env.GOROOT).toBe("/usr/lib/go-1.22");
    const df = renderDockerfile({ baseImage: "base", plan: proxy });
    expect(df.indexOf("unzip -q")).toBeLessThan(df.indexOf("COPY testbed"));
  }, 60_000);

  it("uses the vendor directory when the module vendors its dependencies", async () => {
    const v = memoryView({ ...files, "vendor/modules.txt": "" });
    const [p] = (await go.plans({ view: v, task: fakeTask("go"), testFiles: [] })) as BuildPlan[];
    expect(p!.env.GOFLAGS).toBe("-mod=vendor");
    expect(p!.install.some((s) => s.includes("go mod download"))).toBe(false);
  }, 60_000);
});

describe("go recipe: reading failures", () => {
  const ev = (Action: string, Test?: string) => JSON.stringify({ Action, Package: "example.com/m/a", Test });
  const plan = {
    parser: "go-test-json",
    name: "go/proxy-toolchain",
    test: "go test -json -count=1 ./a",
  } as BuildPlan;

  it("skips top-level tests that fail with the fix in place, once", () => {
    const log = [
      ev("run", "TestNeedsNonRoot"),
      ev("run", "TestNeedsNonRoot/sub"),
      ev("fail", "TestNeedsNonRoot/sub"),
      ev("fail", "TestNeedsNonRoot"),
      ev("run", "TestB"),
      ev("fail", "TestB"),
      ev("run", "TestOk"),
      ev("pass", "TestOk"),
      ev("fail"),
    ].join("\n");
    const r = go.repair!(plan, log)!;
    expect(r.test).toBe("go test -json -count=1 -skip '^(TestB|TestNeedsNonRoot)$' ./a");
    expect(r.name).toBe("go/proxy-toolchain+skip-env-failures");
    expect(go.repair!(r, log)).toBeUndefined();
  });

  it("does not skip when nothing failed by name (a build failure)", () => {
    expect(go.repair!(plan, "FAIL\texample.com/m/a [build failed]\n")).toBeUndefined();
    expect(go.repair!(plan, "no json here")).toBeUndefined();
  });
});
