import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { recipesFor } from "../../src/builder/recipes/index.ts";
import {
  gradle,
  gradleJava,
  gradlePlans,
  javaRelease,
  jvmTestClasses,
  maven,
  mavenJavaRelease,
  mavenPlans,
  mustReport,
} from "../../src/builder/recipes/java.ts";
import { reachable, unreachableHosts } from "../../src/builder/recipes/reachable.ts";
import type { BuildPlan, RecipeContext } from "../../src/builder/recipes/types.ts";
import { runStaticChecks } from "../../src/checks/static.ts";
import { renderEvaluationScript } from "../../src/harness/evaluation-script.ts";
import { parserFor } from "../../src/harness/parse-run.ts";
import type { Task } from "../../src/records/index.ts";
import { memoryView } from "../helpers/view.ts";

const view = memoryView;
const task = { language: "java", test_patch: "", patch: "" } as unknown as Task;
const ctx = (files: Record<string, string>, testFiles: string[] = [], language = "java"): RecipeContext => ({
  view: view(files),
  task: { ...task, language } as Task,
  testFiles,
});

const pom = (body: string) => `<project><modelVersion>4.0.0</modelVersion>${body}</project>`;

describe("JDK release the build asks for", () => {
  it("reads 1.x and plain numbers, Gradle's JavaVersion and Kotlin's JvmTarget", () => {
    expect(["1.8", "8", "11", "VERSION_1_8", "VERSION_17", "JVM_21"].map(javaRelease)).toEqual([
      8, 8, 11, 8, 17, 21,
    ]);
    expect(javaRelease("${java.version}")).toBeUndefined();
    expect(javaRelease("src/main")).toBeUndefined();
  });

  it("takes the highest of properties, plugin settings and the enforcer, resolving ${…}, not profiles", () => {
    const v = view({
      "pom.xml": pom(
        "<properties><java.version>11</java.version><maven.compiler.release>${java.version}</maven.compiler.release></properties>" +
          "<profiles><profile><id>jdk21</id><properties><maven.compiler.release>21</maven.compiler.release></properties></profile></profiles>",
      ),
      "core/pom.xml": pom(
        "<build><plugins><plugin><artifactId>maven-compiler-plugin</artifactId><configuration><source>1.8</source><target>1.8</target></configuration></plugin></plugins></build>",
      ),
    });
    expect(mavenJavaRelease(v)).toBe(11);
    const enforced = view({
      "pom.xml": pom("<requireJavaVersion><version>[17,)</version></requireJavaVersion>"),
    });
    expect(mavenJavaRelease(enforced)).toBe(17);
    expect(mavenJavaRelease(view({ "pom.xml": pom("") }))).toBeUndefined();
  });

  it("reads Gradle's compatibility, jvmTarget, options.release and toolchains", () => {
    expect(
      gradleJava(
        view({
          "build.gradle": "java { sourceCompatibility = JavaVersion.VERSION_1_8 }\n",
          "app/build.gradle.kts":
            "kotlin { compilerOptions { jvmTarget.set(JvmTarget.JVM_11) } }\ntasks.withType<JavaCompile> { options.release = 11 }\n",
        }),
      ),
    ).toEqual({ release: 11, toolchain: undefined });
    expect(gradleJava(view({ "build.gradle.kts": "kotlin { jvmToolchain(21) }\n" }))).toEqual({
      release: undefined,
      toolchain: 21,
    });
  });
});

describe("test selection", () => {
  it("names the PR's test classes by file name, only from test source sets", () => {
    expect(
      jvmTestClasses([
        "src/test/java/com/x/CalcTest.java",
        "core/src/test/kotlin/x/ParserSpec.kt",
        "src/test/java/com/x/package-info.java",
        "src/test/resources/data/input.json",
        "src/main/java/com/x/Calc.java",
        "core/src/test/java/com/x/CalcTest.java",
      ]),
    ).toEqual(["CalcTest", "ParserSpec"]);
  });
});

describe("maven recipe", () => {
  const files = {
    "pom.xml": pom("<properties><maven.compiler.release>11</maven.compiler.release></properties>"),
  };

  it("plans a reactor test run with -Dtest per PR class, nested classes included, XML reports as JUnit", () => {
    const plans = mavenPlans(ctx(files, ["src/test/java/a/OpsTest.java", "src/test/java/a/MoreTest.java"]));
    if ("unavailable" in plans) throw new Error(plans.unavailable);
    expect(plans.map((p) => p.name)).toEqual(["java/maven", "java/maven-install"]);
    const [p] = plans as [BuildPlan];
    expect(p.apt).toContain("openjdk-17-jdk-headless");
    expect(p.toolchain.join("\n")).toContain("apache-maven-3.9.9-bin.tar.gz");
    expect(p.toolchain.join("\n")).toContain("sha512sum -c");
    expect(p.test).toMatch(
      /^\( mvn -B -ntp .* -o -fae test -Dtest='MoreTest,MoreTest\$\*,OpsTest,OpsTest\$\*' /,
    );
    expect(p.test).toContain("-Dsurefire.failIfNoSpecifiedTests=false");
    expect(p.install).toEqual([
      expect.stringContaining("test '-Dtest=*#sweuPrefetchOnly'"),
      expect.stringContaining("-name target"),
    ]);
    expect(plans[1]!.install[0]).toContain("-DskipTests install");
    expect(p.parser).toBe("maven");
    expect(p.junit).toContain("*/target/surefire-reports/TEST-*.xml");
    expect(p.toolchainVersions).toEqual({ jdk: "17", maven: "3.9.9", target: "11" });
  });

  it("runs the whole suite when the PR has no test class, and keeps Kotlin/Scala as the language", () => {
    const [p] = mavenPlans(ctx(files, ["src/test/resources/x.html"], "kotlin")) as BuildPlan[];
    expect(p!.test).not.toContain("-Dtest=");
    expect(p!.language).toBe("kotlin");
  });

  it("says plainly when the build needs a JDK newer than 17", () => {
    const r = mavenPlans(
      ctx({ "pom.xml": pom("<properties><maven.compiler.release>21</maven.compiler.release></properties>") }),
    );
    expect(r).toEqual({ unavailable: expect.stringMatching(/Java 21, but only JDK 17/) });
  });

  it("targets Java 8 for builds stuck on the old plugin defaults, up front or after reading the failure", () => {
    const [old] = mavenPlans(
      ctx({ "pom.xml": pom("<properties><maven.compiler.source>1.5</maven.compiler.source></properties>") }),
    ) as BuildPlan[];
    expect(old!.test).toContain("-Dmaven.compiler.source=8 -Dmaven.compiler.target=8");
    const [plain] = mavenPlans(ctx(files)) as BuildPlan[];
    const fixed = maven.repair!(plain!, "[ERROR] Source option 5 is no longer supported. Use 7 or later.");
    expect(fixed!.name).toBe("java/maven+java8");
    expect(fixed!.install[0]).toContain("-Dmaven.compiler.source=8");
    expect(fixed!.test).toContain("-Dmaven.compiler.target=8");
    expect(maven.repair!(fixed!, "Source option 5 is no longer supported")).toBeUndefined();
    expect(maven.repair!(plain!, "[ERROR] some other failure")).toBeUndefined();
  });

  it("leaves no build output in the image, so a deleted test cannot run from a stale class", () => {
    const [p] = mavenPlans(ctx(files)) as BuildPlan[];
    const dir = mkdtempSync(join(tmpdir(), "sweu-mvn-out-"));
    for (const f of [
      "pom.xml",
      "target/test-classes/a/OpsTest.class",
      "core/pom.xml",
      "core/target/classes/a/Ops.class",
      "core/src/main/java/a/target/Aim.java",
      "docs/target/keep.txt",
    ]) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      writeFileSync(join(dir, f), "");
    }
    const r = spawnSync("bash", ["-c", p!.install.at(-1)!], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const left = spawnSync("find", [".", "-type", "f"], { cwd: dir, encoding: "utf8" })
      .stdout.split("\n")
      .sort();
    expect(left.filter(Boolean)).toEqual([
      "./core/pom.xml",
      "./core/src/main/java/a/target/Aim.java",
      "./docs/target/keep.txt",
      "./pom.xml",
    ]);
  });

  it("fails a run that passes without running any selected class (the PR's tests deleted)", () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-mvn-none-"));
    const [p] = mavenPlans(ctx(files, ["src/test/java/a/OpsTest.java"])) as BuildPlan[];
    const run = (command: string) =>
      spawnSync("bash", ["-c", mustReport(command, ["OpsTest"], p!.junit!)], { cwd: dir, encoding: "utf8" });
    const none = run("true");
    expect(none.status).toBe(1);
    expect(none.stdout).toContain("none of the selected test classes ran");
    expect(run("false").status).toBe(1);
    mkdirSync(join(dir, "m/target/surefire-reports"), { recursive: true });
    writeFileSync(join(dir, "m/target/surefire-reports/TEST-a.OpsTest.xml"), "<testsuite/>");
    expect(run("true").status).toBe(0);
    expect(run("exit 3").status).toBe(3);
    expect(mustReport("mvn test", [], "x")).toBe("mvn test");
  });

  it("writes an evaluation.sh the static hacking rules accept", () => {
    const [p] = mavenPlans(ctx(files, ["src/test/java/a/OpsTest.java"])) as BuildPlan[];
    const verdicts = runStaticChecks(renderEvaluationScript(p!), {
      test_files: ["src/test/java/a/OpsTest.java"],
      code_files: ["src/main/java/a/Ops.java"],
      gold_patch: "+    return Math.min(hi, Math.max(lo, x));\n",
    });
    expect(verdicts.filter((v) => !v.passed)).toEqual([]);
  });

  it("prints the surefire XML of every module depth and drops reports left from the image build", () => {
    const [p] = mavenPlans(ctx(files, ["src/test/java/a/OpsTest.java"])) as BuildPlan[];
    const dir = mkdtempSync(join(tmpdir(), "sweu-mvn-xml-"));
    const put = (root: string, path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    const fixture = (f: string) => readFileSync(`test/fixtures/runner-output/maven/${f}`, "utf8");
    put(
      dir,
      "testbed/target/surefire-reports/TEST-stale.xml",
      "<testsuite><testcase classname='x' name='stale'/></testsuite>",
    );
    // What the runner writes this time, copied in by a stand-in for mvn that then fails like a test failure.
    put(
      dir,
      "reports/core/target/surefire-reports/TEST-com.x.CalcTest_Inner.xml",
      fixture("TEST-com.x.CalcTest_Inner.xml"),
    );
    put(
      dir,
      "reports/a/b/target/surefire-reports/TEST-com.x.OtherTest.xml",
      fixture("TEST-com.x.OtherTest.xml"),
    );
    const script = renderEvaluationScript({ ...p!, test: `cp -r ${dir}/reports/. . && false` }).replace(
      "cd /testbed",
      `cd ${dir}/testbed`,
    );
    const r = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, SWEU_NONCE: "n1" },
    });
    expect(r.status).toBe(1);
    const parsed = parserFor("maven")(r.stdout, "n1");
    expect(parsed.parsed).toBe(true);
    const names = parsed.tests.map((t) => t.name);
    expect(names.some((n) => n.startsWith("com.x.CalcTest."))).toBe(true);
    expect(names.some((n) => n.startsWith("com.x.OtherTest."))).toBe(true);
    expect(names).not.toContain("x.stale");
  });
});

describe("gradle recipe", () => {
  const wrapper = (version: string) => ({
    "settings.gradle": "rootProject.name = 'x'\n",
    "build.gradle": "plugins { id 'java' }\n",
    gradlew: "#!/bin/sh\n",
    "gradle/wrapper/gradle-wrapper.properties": `distributionUrl=https\\://services.gradle.org/distributions/gradle-${version}-bin.zip\n`,
  });

  it("runs the wrapper offline with --tests per PR class and reads build/test-results", () => {
    const plans = gradlePlans(ctx(wrapper("8.7"), ["src/test/java/a/OpsTest.java"]), { unreachable: [] });
    if ("unavailable" in plans) throw new Error(plans.unavailable);
    const [p] = plans as [BuildPlan];
    expect(p.name).toBe("java/gradle-wrapper");
    expect(p.install).toEqual([
      "chmod +x gradlew",
      "./gradlew --no-daemon --console=plain --stacktrace test --tests SweuPrefetchOnly",
    ]);
    expect(p.test).toContain(
      "./gradlew --no-daemon --console=plain --stacktrace --offline --continue test --tests OpsTest; rc=$?",
    );
    expect(p.junit).toContain("build/test-results/*/TEST-*.xml");
    expect(p.parser).toBe("junit");
    expect(p.toolchainVersions.gradle).toBe("8.7");
    const verdicts = runStaticChecks(renderEvaluationScript(p), {
      test_files: ["src/test/java/a/OpsTest.java"],
      code_files: ["src/main/java/a/Ops.java"],
      gold_patch: "",
    });
    expect(verdicts.filter((v) => !v.passed)).toEqual([]);
  });

  it("writes the init script that lets a filter match nothing in a project", () => {
    const [p] = gradlePlans(ctx(wrapper("8.7")), { unreachable: [] }) as BuildPlan[];
    const step = p!.toolchain.find((s) => s.includes("init.d"))!;
    const home = mkdtempSync(join(tmpdir(), "sweu-gradle-home-"));
    execFileSync("bash", ["-c", step.replaceAll("/opt/gradle-home", home)]);
    const init = readFileSync(join(home, "init.d", "sweu-tests.gradle"), "utf8");
    expect(init).toContain("filter.failOnNoMatchingTests = false");
    expect(init).toContain("tasks.withType(Test).configureEach {");
  });

  it("installs a pinned Gradle when there is no wrapper", () => {
    const [p] = gradlePlans(ctx({ "build.gradle.kts": "plugins { java }\n" }), {
      unreachable: [],
    }) as BuildPlan[];
    expect(p!.name).toBe("java/gradle");
    expect(p!.toolchain.join("\n")).toMatch(/services\.gradle\.org\/distributions\/gradle-[\d.]+-bin\.zip/);
    expect(p!.test.startsWith("gradle ")).toBe(true);
  });

  it("says plainly what cannot be had: an unreachable host, an old Gradle, a newer JDK", () => {
    expect(gradlePlans(ctx(wrapper("8.7")), { unreachable: ["services.gradle.org"] })).toEqual({
      unavailable: expect.stringContaining("services.gradle.org, which cannot be reached"),
    });
    expect(gradlePlans(ctx(wrapper("6.9.4")), { unreachable: [] })).toEqual({
      unavailable: expect.stringContaining("Gradle 6.9.4, which cannot run on JDK 17"),
    });
    expect(
      gradlePlans(
        ctx({
          ...wrapper("8.7"),
          "build.gradle": "java { toolchain { languageVersion = JavaLanguageVersion.of(21) } }",
        }),
        {
          unreachable: [],
        },
      ),
    ).toEqual({ unavailable: expect.stringContaining("toolchain of Java 21") });
  });

  it("is in the table after Maven for JVM languages, and asks the network about the wrapper's host", async () => {
    const both = view({ "pom.xml": pom(""), "build.gradle": "" });
    expect(recipesFor("java", both).map((r) => r.name)).toEqual(["maven", "gradle"]);
    expect(recipesFor("kotlin", view({ "build.gradle.kts": "" })).map((r) => r.name)).toEqual(["gradle"]);
    expect(recipesFor("python", both).map((r) => r.name)).not.toContain("maven");
    const server = createServer((_, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const local = {
        ...wrapper("8.7"),
        "gradle/wrapper/gradle-wrapper.properties": `distributionUrl=http\\://127.0.0.1\\:${port}/gradle-8.7-bin.zip\n`,
      };
      const plans = await gradle.plans(ctx(local));
      expect("unavailable" in plans ? plans.unavailable : "planned").toBe("planned");
    } finally {
      server.close();
    }
  });
});

describe("reachability probe", () => {
  it("counts any HTTP answer as reachable and a refused connection as not", async () => {
    const server = createServer((_, res) => res.writeHead(404).end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    expect(await reachable(`http://127.0.0.1:${port}/x`)).toBe(true);
    server.close();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const gone = (closed.address() as AddressInfo).port;
    closed.close();
    expect(await unreachableHosts([`http://127.0.0.1:${gone}/y`, `http://127.0.0.1:${port}/x`])).toEqual([
      `127.0.0.1:${gone}`,
    ]);
  });
});
