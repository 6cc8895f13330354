import type { RepoView } from "../view.ts";
import { unreachableHosts } from "./reachable.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/**
 * .NET (C#): the SDK is installed with Microsoft's dotnet-install.sh (the version global.json pins, else
 * the channel of the newest target framework), packages come from NuGet. Debian bookworm carries no .NET
 * SDK, so where Microsoft's hosts or api.nuget.org cannot be reached the recipe says so plainly.
 * Tests: `dotnet test --logger trx`, one `FullyQualifiedName~<Class>` filter term per PR test class; the TRX
 * files are printed inside the test-output section, where the `dotnet-trx` parser reads them.
 */
export const DOTNET_INSTALL_SCRIPT = "https://dot.net/v1/dotnet-install.sh";
export const NUGET_INDEX = "https://api.nuget.org/v3/index.json";
export const DEFAULT_CHANNEL = "8.0";
const DOTNET_ROOT = "/usr/share/dotnet";
const TRX_DIR = "/tmp/sweu-trx";

const PROJECT = /\.(cs|fs|vb)proj$/;

/** The SDK global.json pins: version and roll-forward policy. */
export function globalJsonSdk(view: RepoView): { version?: string; rollForward?: string } {
  try {
    const json = JSON.parse(view.read("global.json") ?? "{}") as {
      sdk?: { version?: string; rollForward?: string };
    };
    return { version: json.sdk?.version, rollForward: json.sdk?.rollForward };
  } catch {
    return {};
  }
}

/**
 * Target frameworks of the projects the view can read: "net8.0" → "8.0", "netcoreapp3.1" → "3.1";
 * netstandard is a library contract, not a runtime; "net48"-style targets are .NET Framework.
 */
export function targetFrameworks(view: RepoView): { channels: string[]; framework: string[] } {
  const channels = new Set<string>();
  const framework = new Set<string>();
  for (const path of view.files.filter((f) => PROJECT.test(f))) {
    const text = view.read(path) ?? "";
    for (const m of text.matchAll(/<TargetFrameworks?>([^<]+)<\/TargetFrameworks?>/g)) {
      for (const tf of m[1]!.split(";").map((s) => s.trim())) {
        const core = /^(?:net|netcoreapp)(\d+)\.(\d+)(?:-[\w.]+)?$/.exec(tf);
        if (core) channels.add(`${core[1]}.${core[2]}`);
        else if (/^net\d{2,3}$/.test(tf)) framework.add(tf);
      }
    }
    const legacy = /<TargetFrameworkVersion>\s*v([\d.]+)/.exec(text)?.[1];
    if (legacy) framework.add(`v${legacy}`);
  }
  const byVersion = (a: string, b: string) =>
    Number(a.split(".")[0]) - Number(b.split(".")[0]) || Number(a.split(".")[1]) - Number(b.split(".")[1]);
  return { channels: [...channels].sort(byVersion), framework: [...framework].sort() };
}

/** Class names of the PR's C#/F#/VB test files (file name = class, the .NET convention). */
export function dotnetTestClasses(testFiles: string[]): string[] {
  const out = new Set<string>();
  for (const f of testFiles) {
    const m = /(?:^|\/)([A-Za-z_][\w]*)\.(cs|fs|vb)$/.exec(f);
    if (m && !/^(AssemblyInfo|GlobalUsings|Usings)$/.test(m[1]!)) out.add(m[1]!);
  }
  return [...out].sort();
}

/** What `dotnet` builds and tests: the one solution at the root, else the directory (dotnet finds the project). */
function target(view: RepoView): string | undefined {
  const slns = view.files.filter((f) => !f.includes("/") && /\.slnx?$/.test(f));
  return slns.length === 1 ? slns[0] : undefined;
}

export interface DotnetProbe {
  unreachable: string[];
}

export function dotnetPlans(
  { view, testFiles }: RecipeContext,
  probe: DotnetProbe,
): BuildPlan[] | { unavailable: string } {
  const { channels, framework } = targetFrameworks(view);
  if (!channels.length && framework.length)
    return {
      unavailable: `the projects target .NET Framework (${framework.join(", ")}), which does not run on Linux`,
    };
  if (probe.unreachable.length)
    return {
      unavailable: `the .NET SDK comes from Microsoft (dot.net/v1/dotnet-install.sh) and packages from NuGet; ${probe.unreachable.join(", ")} cannot be reached from this machine, and Debian bookworm carries no .NET SDK`,
    };
  const sdk = globalJsonSdk(view);
  const newest = channels.at(-1) ?? DEFAULT_CHANNEL;
  // An exact SDK when global.json pins one (its roll-forward policy may allow newer; the pin is the safe choice).
  const sdkArgs = sdk.version ? `--version ${q(sdk.version)}` : `--channel ${q(newest)}`;
  const sdkChannel = sdk.version ? sdk.version.split(".").slice(0, 2).join(".") : newest;
  // Test projects on older frameworks need their runtimes next to the SDK.
  const runtimes = channels.filter((c) => c !== sdkChannel);
  const install = (args: string) =>
    `/usr/local/bin/dotnet-install.sh ${args} --install-dir ${DOTNET_ROOT} --no-path`;
  const tgt = target(view);
  const tgtArg = tgt ? ` ${q(tgt)}` : "";
  const classes = dotnetTestClasses(testFiles);
  const filter = classes.length
    ? ` --filter ${q(classes.map((c) => `FullyQualifiedName~${c}`).join("|"))}`
    : "";
  const test =
    `( rm -rf ${TRX_DIR}; dotnet test${tgtArg} --no-restore --nologo --logger trx --logger 'console;verbosity=normal' --results-directory ${TRX_DIR}${filter}; ` +
    `rc=$?; cat ${TRX_DIR}/*.trx 2>/dev/null; exit $rc )`;
  return [
    {
      name: "csharp/dotnet",
      language: "csharp",
      apt: ["libicu72", "libssl3", "zlib1g", "libgcc-s1", "libstdc++6", "tzdata"],
      toolchain: [
        `curl -fsSL ${DOTNET_INSTALL_SCRIPT} -o /usr/local/bin/dotnet-install.sh && chmod +x /usr/local/bin/dotnet-install.sh`,
        install(sdkArgs),
        ...runtimes.map((c) => install(`--channel ${q(c)} --runtime dotnet`)),
        `ln -sf ${DOTNET_ROOT}/dotnet /usr/local/bin/dotnet && dotnet --info`,
      ],
      env: {
        DOTNET_ROOT,
        DOTNET_CLI_TELEMETRY_OPTOUT: "1",
        DOTNET_NOLOGO: "1",
        DOTNET_SKIP_FIRST_TIME_EXPERIENCE: "1",
        DOTNET_GENERATE_ASPNET_CERTIFICATE: "false",
        NUGET_XMLDOC_MODE: "skip",
        MSBUILDDISABLENODEREUSE: "1",
      },
      install: [`dotnet restore${tgtArg}`, `dotnet build${tgtArg} --no-restore`],
      test,
      parser: "dotnet-trx",
      toolchainVersions: {
        dotnet: sdk.version ?? newest,
        ...(runtimes.length ? { runtimes: runtimes.join(",") } : {}),
      },
    },
  ];
}

export const dotnet: Recipe = {
  name: "dotnet",
  languages: ["csharp"],
  manifests: /(^|\/)(global\.json|[^/]*\.csproj)$/,
  dependencyFiles: /(^|\/)(global\.json|[^/]*\.csproj|Directory\.Packages\.props)$/,
  detect: (view) => view.has("global.json") || view.files.some((f) => PROJECT.test(f) || /\.slnx?$/.test(f)),
  plans: async (ctx) =>
    dotnetPlans(ctx, { unreachable: await unreachableHosts([DOTNET_INSTALL_SCRIPT, NUGET_INDEX]) }),
};
