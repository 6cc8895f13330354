import type { Language } from "../../records/index.ts";
import type { RepoView } from "../view.ts";
import { unreachableHosts } from "./reachable.ts";
import type { BuildPlan, Recipe, RecipeContext } from "./types.ts";
import { q } from "./types.ts";

/**
 * JVM builds: Maven and Gradle, two table entries sharing the JDK choice and the test selection.
 *
 * JDK: Debian bookworm carries one JDK, OpenJDK 17, which compiles anything that targets Java ≤ 17. A build
 * that asks for a newer release cannot be served: neither Debian nor Maven Central publishes a JDK (Central
 * holds only third-party repackagings, which we do not trust as a toolchain).
 * Maven: Apache publishes the Maven distribution itself on Maven Central, so a current Maven 3.9 is
 * installed from there (Debian's 3.8 defaults to plugins too old for JUnit 5 and `maven.compiler.release`).
 * Gradle: distributions come only from services.gradle.org (the wrapper's default). Maven Central carries
 * gradle-core and the tooling API, not a runnable distribution; Debian's Gradle 4.4 cannot run on JDK 17.
 * Where services.gradle.org cannot be reached the recipe says so instead of planning.
 */
export const SYSTEM_JDK = 17;
export const MAVEN_VERSION = "3.9.9";
export const DEFAULT_GRADLE = "8.10.2";
/** Gradle runs on JDK 17 from 7.3 on. */
const GRADLE_MIN_FOR_JDK = [7, 3] as const;
export const MAVEN_CENTRAL = (
  process.env.SWEU_MAVEN_CENTRAL ?? "https://repo.maven.apache.org/maven2"
).replace(/\/$/, "");
const GRADLE_DISTRIBUTIONS = "https://services.gradle.org/distributions";
const JDK_HOME = "/usr/lib/jvm/sweu-jdk";

const JVM_LANGUAGES: Language[] = ["java", "kotlin", "scala"];

// ------------------------------------------------------------------ shared: JDK release, test classes

/** "1.8" → 8, "11" → 11, "VERSION_1_8" → 8, "JVM_17" → 17; undefined for anything else. */
export function javaRelease(value: string): number | undefined {
  const m = /^(?:VERSION_|JVM_)?(1[._])?(\d{1,2})$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[2]);
  return n >= 1 && n <= 40 ? n : undefined;
}

/** Properties of one pom (outside profiles), for `${name}` references. */
function pomProperties(pom: string): Map<string, string> {
  const props = new Map<string, string>();
  const block = /<properties>([\s\S]*?)<\/properties>/.exec(pom)?.[1] ?? "";
  for (const m of block.matchAll(/<([\w.-]+)>\s*([^<]*?)\s*<\/\1>/g)) props.set(m[1]!, m[2]!);
  return props;
}

const POM_RELEASE_TAGS =
  /<(maven\.compiler\.(?:release|source|target|testRelease|testSource|testTarget)|java\.version|jdk\.version|java\.release|javaVersion|jdkVersion|kotlin\.compiler\.jvmTarget|release|source|target|jvmTarget)>\s*([^<\s]+)\s*<\/\1>/g;

/**
 * The highest Java release the Maven build asks for: compiler properties and plugin settings, Spring's
 * java.version, Kotlin's jvmTarget, the enforcer's requireJavaVersion lower bound. Profiles are left out:
 * they are conditional (a "jdk21" profile only switches on where JDK 21 runs).
 */
export function mavenJavaRelease(view: RepoView): number | undefined {
  const poms = view.files.filter((f) => f === "pom.xml" || f.endsWith("/pom.xml"));
  const rootProps = pomProperties(view.read("pom.xml") ?? "");
  let best: number | undefined;
  const take = (n: number | undefined) => {
    if (n !== undefined && (best === undefined || n > best)) best = n;
  };
  for (const path of poms) {
    const pom = (view.read(path) ?? "").replace(/<profiles>[\s\S]*?<\/profiles>/g, "");
    const props = new Map([...rootProps, ...pomProperties(pom)]);
    const resolve = (v: string, depth = 0): string => {
      const ref = /^\$\{([\w.-]+)\}$/.exec(v);
      return ref && depth < 5 && props.has(ref[1]!) ? resolve(props.get(ref[1]!)!, depth + 1) : v;
    };
    for (const m of pom.matchAll(POM_RELEASE_TAGS)) take(javaRelease(resolve(m[2]!)));
    const enforcer = /<requireJavaVersion>[\s\S]*?<version>\s*\[?\s*([\d.]+)/.exec(pom)?.[1];
    if (enforcer) take(javaRelease(enforcer.replace(/^1\.(\d+).*/, "$1").replace(/\..*$/, "")));
  }
  return best;
}

/**
 * What a Gradle build asks for: `release` is the highest target (sourceCompatibility, jvmTarget,
 * options.release), `toolchain` a toolchain language version (Gradle needs exactly that JDK).
 */
export function gradleJava(view: RepoView): { release?: number; toolchain?: number } {
  const scripts = view.files.filter((f) => /(^|\/)build\.gradle(\.kts)?$/.test(f));
  let release: number | undefined;
  let toolchain: number | undefined;
  const max = (a: number | undefined, b: number | undefined) =>
    b === undefined ? a : a === undefined ? b : Math.max(a, b);
  for (const path of scripts) {
    const text = view.read(path) ?? "";
    for (const m of text.matchAll(/(?:JavaLanguageVersion\.of|jvmToolchain)\s*\(\s*(\d+)\s*\)/g))
      toolchain = max(toolchain, javaRelease(m[1]!));
    for (const m of text.matchAll(
      /(?:source|target)Compatibility\s*=\s*(?:JavaVersion\.)?['"]?([\w.]+)['"]?|jvmTarget(?:\.set\()?\s*=?\s*(?:JvmTarget\.)?['"]?([\w.]+)['"]?|options\.release(?:\.set\()?\s*=?\s*(\d+)/g,
    ))
      release = max(release, javaRelease(m[1] ?? m[2] ?? m[3] ?? ""));
  }
  return { release, toolchain };
}

/** Why the system JDK cannot build this, or undefined when it can. */
function jdkUnavailable(release: number | undefined, what: string): string | undefined {
  if (release === undefined || release <= SYSTEM_JDK) return undefined;
  return `${what} Java ${release}, but only JDK ${SYSTEM_JDK} can be installed (Debian bookworm; no JDK is published on Maven Central or Debian backports for it)`;
}

const TEST_SOURCE =
  /(^|\/)src\/(test|testFixtures|integrationTest|it)\/(java|kotlin|scala|groovy)\/(.+)\.(java|kt|scala|groovy)$/;

/** Simple class names of the PR's test sources (file name = top-level class, as javac and most JVM code have it). */
export function jvmTestClasses(testFiles: string[]): string[] {
  const out = new Set<string>();
  for (const f of testFiles) {
    const m = TEST_SOURCE.exec(f);
    if (!m) continue;
    const cls = m[4]!.split("/").pop()!;
    if (cls === "package-info" || cls === "module-info" || !/^[A-Za-z_$][\w$]*$/.test(cls)) continue;
    out.add(cls);
  }
  return [...out].sort();
}

/** Install the JDK's trust store with the site CAs (ca-certificates-java's hook) and a stable JAVA_HOME. */
const JDK_STEPS = [
  "update-ca-certificates -f >/dev/null",
  `ln -sfn "$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")" ${JDK_HOME} && ${JDK_HOME}/bin/javac -version`,
];
const JDK_APT = ["openjdk-17-jdk-headless", "ca-certificates-java"];

function jvmLanguage(language: Language): Language {
  return JVM_LANGUAGES.includes(language) ? language : "java";
}

// ------------------------------------------------------------------ Maven

/** Checks and packaging steps that are not tests and only slow, or break, an offline test run. */
const MAVEN_SKIPS = [
  "-Dgpg.skip=true",
  "-Dmaven.javadoc.skip=true",
  "-Dmaven.source.skip=true",
  "-Dcheckstyle.skip=true",
  "-Dspotless.check.skip=true",
  "-Dpmd.skip=true",
  "-Dcpd.skip=true",
  "-Dspotbugs.skip=true",
  "-Denforcer.skip=true",
  "-Drat.skip=true",
  "-Dlicense.skip=true",
  "-Djapicmp.skip=true",
  "-Drevapi.skip=true",
].join(" ");
const MVN = `mvn -B -ntp ${MAVEN_SKIPS}`;
const NO_TESTS_OK = "-Dsurefire.failIfNoSpecifiedTests=false -DfailIfNoTests=false";
/**
 * The image keeps ~/.m2, not the build's outputs: a compiler without incremental bookkeeping (e.g.
 * `useIncrementalCompilation=false`) leaves classes of deleted sources in target/, and a deleted test would
 * still run from its stale class. So every evaluation compiles from the sources it has.
 */
const DROP_OUTPUTS =
  "find . -type d -name target -prune -exec test -f '{}/../pom.xml' ';' -exec rm -rf '{}' +";
/** Override for projects that leave source/target at an old plugin's default (1.5/1.6), which JDK 17 refuses. */
const OLD_TARGET_FIX = "-Dmaven.compiler.source=8 -Dmaven.compiler.target=8";

function mavenInstallSteps(version: string): string[] {
  const base = `${MAVEN_CENTRAL}/org/apache/maven/apache-maven/${version}/apache-maven-${version}-bin.tar.gz`;
  const steps = [
    `curl -fsSL ${base} -o /tmp/maven.tgz && echo "$(curl -fsSL ${base}.sha512 | cut -c1-128)  /tmp/maven.tgz" | sha512sum -c - ` +
      "&& mkdir -p /opt/maven && tar -xzf /tmp/maven.tgz -C /opt/maven --strip-components=1 && rm /tmp/maven.tgz " +
      "&& ln -sf /opt/maven/bin/mvn /usr/local/bin/mvn && mvn -v",
  ];
  if (MAVEN_CENTRAL !== "https://repo.maven.apache.org/maven2") {
    const settings = `<settings><mirrors><mirror><id>sweu</id><mirrorOf>central</mirrorOf><url>${MAVEN_CENTRAL}</url></mirror></mirrors></settings>`;
    steps.push(`mkdir -p /root/.m2 && printf '%s\\n' ${q(settings)} > /root/.m2/settings.xml`);
  }
  return steps;
}

/** Surefire/failsafe XML of every module (evaluation.sh has no globstar, so depths are spelled out). */
const SUREFIRE_XML = [0, 1, 2, 3].map((d) => `${"*/".repeat(d)}target/surefire-reports/TEST-*.xml`).join(" ");

/**
 * With a selection that may match nothing in a module, the runner exits 0 when none of the selected classes
 * exists (deleted tests, a renamed class). evaluation.sh removes old reports before the run, so a run that
 * leaves no report at all ran none of the PR's tests: that run fails.
 */
export function mustReport(command: string, classes: string[], reports: string): string {
  if (!classes.length) return command;
  return (
    `( ${command}; rc=$?; if [ $rc -eq 0 ] && [ -z "$(ls ${reports} 2>/dev/null)" ]; then ` +
    `echo "[sweu] no test report: none of the selected test classes ran"; rc=1; fi; exit $rc )`
  );
}

/**
 * Maven plans. Tests run over the whole reactor (`-fae`, test selection by `-Dtest`, modules without a
 * selected class run nothing): sibling modules resolve from the reactor, so a fix in one module reaches the
 * tests of another without a stale installed jar. Before evaluation, the image has every plugin, the
 * dependencies and surefire's test-framework provider in ~/.m2: a `test` run whose filter matches no method
 * (`*#…`) resolves and forks the provider without running a test. The second plan also installs the
 * modules, for builds whose modules depend on packaged siblings (test-jars, shaded jars).
 */
export function mavenPlans({ view, task, testFiles }: RecipeContext): BuildPlan[] | { unavailable: string } {
  const release = mavenJavaRelease(view);
  const why = jdkUnavailable(release, "the Maven build targets");
  if (why) return { unavailable: why };
  const classes = jvmTestClasses(testFiles);
  const selection = classes.length
    ? ` -Dtest=${q(classes.flatMap((c) => [c, `${c}$*`]).join(","))} ${NO_TESTS_OK}`
    : "";
  const prefetch = `${MVN} test ${q("-Dtest=*#sweuPrefetchOnly")} ${NO_TESTS_OK}`;
  const oldTarget = release !== undefined && release < 7 ? ` ${OLD_TARGET_FIX}` : "";
  const fix = (s: string) => (oldTarget ? s.replace(MVN, `${MVN}${oldTarget}`) : s);
  const common = {
    language: jvmLanguage(task.language),
    apt: JDK_APT,
    toolchain: [...JDK_STEPS, ...mavenInstallSteps(MAVEN_VERSION)],
    env: { JAVA_HOME: JDK_HOME, MAVEN_OPTS: "-Xmx1g -XX:+UseSerialGC" },
    test: fix(
      mustReport(`${MVN} -o -fae test${selection} -Dmaven.test.failure.ignore=false`, classes, SUREFIRE_XML),
    ),
    parser: "maven",
    junit: SUREFIRE_XML,
    toolchainVersions: {
      jdk: String(SYSTEM_JDK),
      maven: MAVEN_VERSION,
      ...(release ? { target: String(release) } : {}),
    },
  };
  return [
    { ...common, name: "java/maven", install: [fix(prefetch), DROP_OUTPUTS] },
    {
      ...common,
      name: "java/maven-install",
      install: [fix(`${MVN} -DskipTests install`), fix(prefetch), DROP_OUTPUTS],
    },
  ];
}

function mavenRepair(plan: BuildPlan, failure: string): BuildPlan | undefined {
  if (plan.test.includes(OLD_TARGET_FIX)) return undefined;
  if (
    !/(Source|Target) option \d+ is no longer supported|invalid (source|target) release: 1\.[1-6]\b/.test(
      failure,
    )
  )
    return undefined;
  const fix = (s: string) => s.replace(MVN, `${MVN} ${OLD_TARGET_FIX}`);
  return { ...plan, name: `${plan.name}+java8`, install: plan.install.map(fix), test: fix(plan.test) };
}

export const maven: Recipe = {
  name: "maven",
  languages: JVM_LANGUAGES,
  manifests: /(^|\/)(pom\.xml)$/,
  dependencyFiles: /(^|\/)(pom\.xml|maven-wrapper\.properties)$/,
  detect: (view) => view.has("pom.xml"),
  plans: mavenPlans,
  repair: mavenRepair,
};

// ------------------------------------------------------------------ Gradle

/** Gradle version and host from gradle/wrapper/gradle-wrapper.properties, when the view carries it. */
export function gradleWrapper(view: RepoView): { version?: string; url?: string } | undefined {
  if (!view.has("gradlew") || !view.has("gradle/wrapper/gradle-wrapper.properties")) return undefined;
  const props = view.read("gradle/wrapper/gradle-wrapper.properties") ?? "";
  const url = /^distributionUrl\s*=\s*(\S+)/m.exec(props)?.[1]?.replace(/\\:/g, ":");
  const version = url ? /gradle-([\d.]+(?:-[\w.]+)?)-(?:bin|all)\.zip/.exec(url)?.[1] : undefined;
  return { version, url };
}

function versionBelow(version: string, min: readonly [number, number]): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  return a < min[0] || (a === min[0] && b < min[1]);
}

/** Applied to every build: a test filter that matches nothing in a project is not an error; tests always rerun. */
const GRADLE_INIT = [
  "allprojects {",
  "  tasks.withType(Test).configureEach {",
  "    filter.failOnNoMatchingTests = false",
  "    outputs.upToDateWhen { false }",
  "  }",
  "}",
];
const GRADLE_HOME = "/opt/gradle-home";
const GRADLE_XML = [0, 1, 2, 3].map((d) => `${"*/".repeat(d)}build/test-results/*/TEST-*.xml`).join(" ");

export interface GradleProbe {
  /** Hosts the Gradle distribution would come from that cannot be reached. */
  unreachable: string[];
}

/**
 * Gradle plans, given what the network allows. The wrapper (the project's own Gradle version) comes first;
 * without one, a pinned Gradle release from services.gradle.org. Tests run offline with `--tests <Class>`
 * per PR class and `--continue`; results are the JUnit XML under build/test-results.
 */
export function gradlePlans(
  { view, task, testFiles }: RecipeContext,
  probe: GradleProbe,
): BuildPlan[] | { unavailable: string } {
  const { release, toolchain } = gradleJava(view);
  const why =
    jdkUnavailable(toolchain, "the Gradle build asks for a toolchain of") ??
    jdkUnavailable(release, "the Gradle build targets");
  if (why) return { unavailable: why };
  const wrapper = gradleWrapper(view);
  if (wrapper?.version && versionBelow(wrapper.version, GRADLE_MIN_FOR_JDK))
    return {
      unavailable: `the Gradle wrapper asks for Gradle ${wrapper.version}, which cannot run on JDK ${SYSTEM_JDK} (Gradle ${GRADLE_MIN_FOR_JDK.join(".")}+ can), the only JDK that can be installed`,
    };
  if (probe.unreachable.length)
    return {
      unavailable: `Gradle distributions come from ${probe.unreachable.join(", ")}, which cannot be reached from this machine (Maven Central has no runnable Gradle distribution; Debian's Gradle 4.4 cannot run on JDK ${SYSTEM_JDK})`,
    };
  const gradle = wrapper ? "./gradlew" : "gradle";
  const flags = "--no-daemon --console=plain --stacktrace";
  const classes = jvmTestClasses(testFiles);
  const selection = classes.map((c) => ` --tests ${q(c)}`).join("");
  const toolchainSteps = [
    ...JDK_STEPS,
    `mkdir -p ${GRADLE_HOME}/init.d && printf '%s\\n' ${GRADLE_INIT.map(q).join(" ")} > ${GRADLE_HOME}/init.d/sweu-tests.gradle`,
  ];
  if (!wrapper)
    toolchainSteps.push(
      `curl -fsSL ${GRADLE_DISTRIBUTIONS}/gradle-${DEFAULT_GRADLE}-bin.zip -o /tmp/gradle.zip && unzip -q /tmp/gradle.zip -d /opt && rm /tmp/gradle.zip && ln -sf /opt/gradle-${DEFAULT_GRADLE}/bin/gradle /usr/local/bin/gradle`,
    );
  return [
    {
      name: wrapper ? "java/gradle-wrapper" : "java/gradle",
      language: jvmLanguage(task.language),
      apt: [...JDK_APT, "unzip"],
      toolchain: toolchainSteps,
      env: {
        JAVA_HOME: JDK_HOME,
        GRADLE_USER_HOME: GRADLE_HOME,
        GRADLE_OPTS: "-Dorg.gradle.daemon=false -Dorg.gradle.vfs.watch=false -Xmx1g",
      },
      install: [
        ...(wrapper ? ["chmod +x gradlew"] : []),
        // Resolves plugins, dependencies and the test runtime, runs the test task with a filter matching nothing.
        `${gradle} ${flags} test --tests SweuPrefetchOnly`,
      ],
      test: mustReport(`${gradle} ${flags} --offline --continue test${selection}`, classes, GRADLE_XML),
      parser: "junit",
      junit: GRADLE_XML,
      toolchainVersions: {
        jdk: String(SYSTEM_JDK),
        gradle: wrapper ? (wrapper.version ?? "wrapper") : DEFAULT_GRADLE,
        ...(release ? { target: String(release) } : {}),
      },
    },
  ];
}

export const gradle: Recipe = {
  name: "gradle",
  languages: JVM_LANGUAGES,
  manifests: /(^|\/)(build\.gradle(\.kts)?|settings\.gradle(\.kts)?)$/,
  dependencyFiles:
    /(^|\/)(build\.gradle(\.kts)?|settings\.gradle(\.kts)?|gradle\.properties|gradle-wrapper\.properties)$/,
  detect: (view) =>
    ["build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts"].some((f) => view.has(f)),
  plans: async (ctx) => {
    const url = gradleWrapper(ctx.view)?.url ?? `${GRADLE_DISTRIBUTIONS}/`;
    return gradlePlans(ctx, { unreachable: await unreachableHosts([url]) });
  },
};
