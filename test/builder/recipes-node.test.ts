import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { node } from "../../src/builder/recipes/node.ts";
import type { BuildPlan } from "../../src/builder/recipes/types.ts";
import { fakeTask, memoryView } from "../helpers/view.ts";

const PR_FILES = ["src/a.ts", "test/a.test.ts", "test/fixtures/data.json", "README.md"];

async function plansOf(files: Record<string, string>, testFiles = PR_FILES): Promise<BuildPlan[]> {
  const r = await node.plans({ view: memoryView(files), task: fakeTask("typescript"), testFiles });
  if (!Array.isArray(r)) throw new Error(`no plans: ${r.unavailable}`);
  return r;
}

const pkg = (p: Record<string, unknown>) => JSON.stringify({ name: "x", version: "1.0.0", ...p });

describe("node recipe: runners", () => {
  // scripts.test as projects write it, the dependency that comes with it, the selected command and parser
  const cases: [string, string, Record<string, string>, string, string][] = [
    ["vitest", "vitest run", { vitest: "^3" }, "npx vitest run --reporter=verbose test/a.test.ts", "vitest"],
    [
      "jest",
      "cross-env NODE_ENV=test jest --coverage",
      { jest: "^29", "ts-jest": "^29" },
      "npx jest --ci --verbose --runTestsByPath test/a.test.ts",
      "jest",
    ],
    [
      "mocha",
      "nyc mocha 'test/**/*.test.ts'",
      { mocha: "^10" },
      "npx mocha --reporter spec test/a.test.ts",
      "mocha",
    ],
    ["ava", "ava --verbose", { ava: "^6" }, "npx ava --tap test/a.test.ts", "tap"],
    ["tap", "tap", { tap: "^21.0.0" }, "npx tap --reporter=tap --disable-coverage test/a.test.ts", "tap"],
    [
      "node-test",
      "node --import tsx --test test/",
      { tsx: "^4" },
      "node --test --test-reporter=tap test/a.test.ts",
      "tap",
    ],
  ];

  it.each(cases)(
    "%s: found from scripts.test, runs the PR's test files",
    async (name, script, deps, command, parser) => {
      const plans = await plansOf({
        "package.json": pkg({ scripts: { test: script }, devDependencies: deps }),
      });
      expect(plans.map((p) => p.name)).toEqual([
        `node/npm-strict/${name}`,
        `node/npm-strict/${name}-all`,
        "node/npm-strict/npm-test",
      ]);
      const [selected, all, npmTest] = plans as [BuildPlan, BuildPlan, BuildPlan];
      expect(selected.test).toBe(command);
      expect(selected.parser).toBe(parser);
      expect(all.test).toBe(command.replace(/ (--runTestsByPath )?test\/a\.test\.ts$/, ""));
      expect(npmTest.test).toBe("npm test --silent");
      expect(npmTest.parser).toBe(parser);
      expect(selected.language).toBe("typescript");
    },
  );

  it.each(cases.filter(([n]) => n !== "node-test"))(
    "%s: found from devDependencies when scripts.test names no runner",
    async (name, _script, deps, command) => {
      const plans = await plansOf({
        "package.json": pkg({ scripts: { test: "npm run build && ./run-tests.sh" }, devDependencies: deps }),
      });
      expect(plans[0]!.name).toBe(`node/npm-strict/${name}`);
      expect(plans[0]!.test).toBe(command);
    },
  );

  it("reads a runner only as a command word, not inside flags or other package names", async () => {
    const first = async (test: string, deps: Record<string, string> = {}) =>
      (await plansOf({ "package.json": pkg({ scripts: { test }, devDependencies: deps }) }))[0]!.name;
    // "--test-reporter=tap" is node:test's reporter, not node-tap
    expect(await first("node --test --test-reporter=tap")).toBe("node/npm-strict/node-test");
    // a jest reporter package named after mocha is still jest
    expect(await first("jest --reporters=default --reporters=mocha-junit-reporter", { jest: "^29" })).toBe(
      "node/npm-strict/jest",
    );
    expect(await first("./node_modules/.bin/mocha")).toBe("node/npm-strict/mocha");
    expect(await first("c8 node --test")).toBe("node/npm-strict/node-test");
    expect(await first("ava --tap")).toBe("node/npm-strict/ava");
  });

  it("turns node-tap's 100% coverage gate off with the flag its major understands", async () => {
    const tapPlan = async (range: string) =>
      (
        await plansOf({ "package.json": pkg({ scripts: { test: "tap" }, devDependencies: { tap: range } }) })
      )[0]!.test;
    expect(await tapPlan("^16.3.0")).toBe("npx tap --reporter=tap --no-coverage test/a.test.ts");
    expect(await tapPlan("~15.0.0")).toBe("npx tap --reporter=tap --no-coverage test/a.test.ts");
    expect(await tapPlan("^18.6.1")).toBe("npx tap --reporter=tap --disable-coverage test/a.test.ts");
    expect(await tapPlan("latest")).toBe("npx tap --reporter=tap --disable-coverage test/a.test.ts");
  });

  it("selects only JS/TS test files of the PR, and runs the whole suite when there are none", async () => {
    const files = { "package.json": pkg({ devDependencies: { vitest: "^3" } }) };
    const plans = await plansOf(files, [
      "src/a.ts",
      "test/helpers/setup.ts",
      "test/b.spec.mjs",
      "__tests__/c.tsx",
    ]);
    expect(plans[0]!.test).toBe("npx vitest run --reporter=verbose test/b.spec.mjs __tests__/c.tsx");
    const none = await plansOf(files, ["src/a.ts", "docs/x.md"]);
    expect(none.map((p) => [p.name, p.test])).toEqual([
      ["node/npm-strict/vitest-all", "npx vitest run --reporter=verbose"],
    ]);
  });
});

describe("node recipe: package managers", () => {
  const base = { scripts: { test: "vitest run" }, devDependencies: { vitest: "^3" } };
  const strictAndLoose = (plans: BuildPlan[]) => [plans[0]!.install, plans.at(-1)!.install];

  it("npm: npm ci with a package-lock.json, npm install without", async () => {
    const locked = await plansOf({ "package.json": pkg(base), "package-lock.json": "{}" });
    expect(strictAndLoose(locked)).toEqual([
      ["npm ci --no-audit --no-fund"],
      ["npm install --no-audit --no-fund"],
    ]);
    expect(locked.at(-1)!.name).toBe("node/npm-loose/vitest");
    expect(locked[0]!.toolchainVersions.packageManager).toBe("npm");
    const shrinkwrap = await plansOf({ "package.json": pkg(base), "npm-shrinkwrap.json": "{}" });
    expect(shrinkwrap[0]!.install).toEqual(["npm ci --no-audit --no-fund"]);
    // no lockfile: one install, so no loose variant
    const bare = await plansOf({ "package.json": pkg(base) });
    expect(bare.map((p) => p.install)).toEqual(bare.map(() => ["npm install --no-audit --no-fund"]));
    expect(bare.some((p) => p.name.includes("loose"))).toBe(false);
  });

  it("yarn classic: a v1 yarn.lock installs Yarn 1 with a frozen lockfile", async () => {
    const plans = await plansOf({
      "package.json": pkg(base),
      "yarn.lock": "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n",
    });
    expect(strictAndLoose(plans)).toEqual([
      ["npm install -g --no-audit --no-fund yarn@1", "yarn install --frozen-lockfile --non-interactive"],
      ["npm install -g --no-audit --no-fund yarn@1", "yarn install --non-interactive"],
    ]);
    expect(plans[0]!.name).toBe("node/yarn-strict/vitest");
    expect(plans[0]!.test).toBe("npx vitest run --reporter=verbose test/a.test.ts");
  });

  it("yarn berry (.yarnrc.yml): Yarn from the npm registry, --immutable, binaries through `yarn`", async () => {
    const plans = await plansOf({
      "package.json": pkg({ ...base, packageManager: "yarn@4.1.0+sha224.0123456789abcdef" }),
      ".yarnrc.yml": "nodeLinker: pnp\n",
      "yarn.lock": "__metadata:\n  version: 8\n  cacheKey: 10c0\n",
    });
    expect(strictAndLoose(plans)).toEqual([
      ["npm install -g --no-audit --no-fund @yarnpkg/cli-dist@4.1.0", "yarn install --immutable"],
      ["npm install -g --no-audit --no-fund @yarnpkg/cli-dist@4.1.0", "yarn install"],
    ]);
    expect(plans[0]!.toolchainVersions.packageManager).toBe("yarn@4.1.0");
    // Plug'n'Play leaves no node_modules/.bin for npx
    expect(plans[0]!.test).toBe("yarn vitest run --reporter=verbose test/a.test.ts");
    expect(plans.find((p) => p.name.endsWith("npm-test"))!.test).toBe("yarn test");
  });

  it("yarn berry without .yarnrc.yml or packageManager: told by the lockfile, Yarn's major from its version", async () => {
    const plans = await plansOf({
      "package.json": pkg(base),
      "yarn.lock":
        '# This file is generated by running "yarn install"\n\n__metadata:\n  version: 6\n  cacheKey: 8\n',
    });
    expect(plans[0]!.install[0]).toMatch(
      /^npm install -g --no-audit --no-fund @yarnpkg\/cli-dist@3\.\d+\.\d+$/,
    );
    expect(plans[0]!.install[1]).toBe("yarn install --immutable");
  });

  it("yarn berry with a committed release: Yarn 1 hands over to yarnPath", async () => {
    const plans = await plansOf({
      "package.json": pkg(base),
      ".yarnrc.yml": "yarnPath: .yarn/releases/yarn-3.6.4.cjs\n",
      ".yarn/releases/yarn-3.6.4.cjs": "",
      "yarn.lock": "__metadata:\n  version: 6\n",
    });
    expect(plans[0]!.install).toEqual([
      "npm install -g --no-audit --no-fund yarn@1",
      "yarn install --immutable",
    ]);
  });

  it("pnpm: the pnpm major that writes the lockfile, frozen, then not", async () => {
    const plans = await plansOf({ "package.json": pkg(base), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n" });
    const [strict, loose] = strictAndLoose(plans);
    expect(strict![0]).toMatch(/^npm install -g --no-audit --no-fund pnpm@9\.\d+\.\d+$/);
    expect(strict![1]).toBe("pnpm install --frozen-lockfile");
    expect(loose).toEqual([strict![0], "pnpm install --no-frozen-lockfile"]);
    expect(plans[0]!.toolchainVersions.packageManager).toBe(strict![0]!.split(" ").pop());
    expect(plans[0]!.test).toBe("npx vitest run --reporter=verbose test/a.test.ts");
    const old = await plansOf({ "package.json": pkg(base), "pnpm-lock.yaml": "lockfileVersion: 5.4\n" });
    expect(old[0]!.install[0]).toMatch(/pnpm@7\.\d+\.\d+$/);
  });
});

describe("node recipe: repair", () => {
  it("reads an empty spec's name through the colour codes vitest prints", () => {
    const plan = {
      name: "node/npm-strict/vitest",
      parser: "vitest",
      test: "npx vitest run --reporter=verbose src/a.spec.ts src/cases.spec.ts",
    } as BuildPlan;
    const coloured =
      "\x1b[31m FAIL \x1b[39m src/cases.spec.ts [ src/cases.spec.ts ]\n" +
      "\x1b[31mError\x1b[39m: No test suite found in file /testbed/src/cases.spec.ts\x1b[39m\n";
    expect(node.repair!(plan, coloured)!.test).toBe(
      "npx vitest run --reporter=verbose src/a.spec.ts --exclude src/cases.spec.ts",
    );
  });
});

describe("node recipe: an environment reused at another commit", () => {
  const files = (scripts?: Record<string, string>) => ({
    "package.json": pkg({ scripts: { test: "vitest run", ...scripts }, devDependencies: { vitest: "^3" } }),
    "package-lock.json": "{}",
  });

  it("builds what `prepare` built again from the task's source, and only where the project has one", async () => {
    const [withPrepare] = await plansOf(files({ prepare: "tsc -p ." }));
    expect(withPrepare!.refresh?.join("\n")).toContain("npm run prepare");
    const [without] = await plansOf(files());
    expect(without!.refresh).toBeUndefined();
  });

  // The step itself, run by bash on a real checkout with the real npm: the other commit's dist/ (holding a
  // file the task's source does not have) is replaced by the task's build, or kept when the build fails.
  it.each([
    [
      "the build succeeds: only the task's build output is left",
      "mkdir -p dist && echo task > dist/a.js",
      ["a.js"],
    ],
    ["the build fails: the earlier output is kept (the leak probe judges it)", "exit 1", ["fix.js"]],
  ])("%s", async (_name, prepare, left) => {
    const [plan] = await plansOf(files({ prepare }));
    const dir = mkdtempSync(join(tmpdir(), "sweu-node-refresh-"));
    writeFileSync(join(dir, "package.json"), pkg({ scripts: { prepare } }));
    execFileSync("git", ["init", "-q", dir]);
    execFileSync("git", ["-C", dir, "add", "package.json"]);
    mkdirSync(join(dir, "dist"));
    writeFileSync(join(dir, "dist", "fix.js"), "the other commit's code\n");
    execFileSync("bash", ["-c", plan!.refresh!.join("\n")], { cwd: dir });
    expect(readdirSync(join(dir, "dist")).sort()).toEqual(left);
    rmSync(dir, { recursive: true, force: true });
  });
});
