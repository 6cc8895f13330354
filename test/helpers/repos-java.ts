import { TestRepo } from "./repos.ts";

const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.example</groupId>
  <artifactId>calc</artifactId>
  <version>1.0-SNAPSHOT</version>
  <properties>
    <maven.compiler.release>11</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <version>5.10.2</version>
      <scope>test</scope>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <artifactId>maven-surefire-plugin</artifactId>
        <version>3.2.5</version>
      </plugin>
    </plugins>
  </build>
</project>
`;

const ops = (clamp: string) =>
  [
    "package calc;",
    "",
    "public final class Ops {",
    "  private Ops() {}",
    "",
    "  public static int add(int a, int b) {",
    "    return a + b;",
    "  }",
    "",
    "  public static int clamp(int x, int lo, int hi) {",
    clamp,
    "  }",
    "}",
    "",
  ].join("\n");

const opsTest = (extra: string[]) =>
  [
    "package calc;",
    "",
    "import static org.junit.jupiter.api.Assertions.assertEquals;",
    "",
    "import org.junit.jupiter.api.Test;",
    "import org.junit.jupiter.params.ParameterizedTest;",
    "import org.junit.jupiter.params.provider.ValueSource;",
    "",
    "class OpsTest {",
    "  @Test",
    "  void add() {",
    "    assertEquals(5, Ops.add(2, 3));",
    "  }",
    "",
    "  @ParameterizedTest",
    "  @ValueSource(ints = {1, 7})",
    "  void clampLow(int x) {",
    "    assertEquals(0, Ops.clamp(-x, 0, 10));",
    "  }",
    ...extra,
    "}",
    "",
  ].join("\n");

/**
 * A Maven project (JUnit 5, one module) with a real bug: clamp never applies its upper bound. PR #3,
 * merged with a merge commit, fixes it and adds a test. A second test class the PR does not touch shows
 * that only the PR's test classes run.
 */
export function mavenProject(): TestRepo {
  const r = new TestRepo("sweu-mvn-");
  r.commit("Initial calc library", {
    "pom.xml": POM,
    ".gitignore": "target/\n",
    "src/main/java/calc/Ops.java": ops(
      "    // bug: the upper bound is never applied\n    return Math.max(lo, x);",
    ),
    "src/main/java/calc/Strs.java":
      'package calc;\n\npublic final class Strs {\n  private Strs() {}\n\n  public static String shout(String s) {\n    return s.toUpperCase() + "!";\n  }\n}\n',
    "src/test/java/calc/OpsTest.java": opsTest([]),
    "src/test/java/calc/StrsTest.java":
      'package calc;\n\nimport static org.junit.jupiter.api.Assertions.assertEquals;\n\nimport org.junit.jupiter.api.Test;\n\nclass StrsTest {\n  @Test\n  void shout() {\n    assertEquals("HI!", Strs.shout("hi"));\n  }\n}\n',
    "README.md": "# calc\n",
  });
  r.mergePr(
    3,
    "fix-clamp",
    "Fix clamp ignoring its upper bound",
    "clamp(50, 0, 10) returned 50.\n\nFixes #2",
    [
      {
        "src/main/java/calc/Ops.java": ops("    return Math.min(hi, Math.max(lo, x));"),
        "src/test/java/calc/OpsTest.java": opsTest([
          "",
          "  @Test",
          "  void clampHigh() {",
          "    assertEquals(10, Ops.clamp(50, 0, 10));",
          "  }",
        ]),
      },
    ],
  );
  return r;
}
