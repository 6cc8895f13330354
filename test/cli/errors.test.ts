import { readFileSync } from "node:fs";
import { connect } from "node:net";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { mapError } from "../../src/cli/errors.ts";
import { CliError } from "../../src/cli/exit-codes.ts";

/** Real errors, made by the things that raise them, mapped at the CLI's one boundary. */
const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("did not throw");
};

describe("mapError", () => {
  it("gives each kind its exit code and one line", async () => {
    const refused = await new Promise<Error>((ok) => connect(1, "127.0.0.1").on("error", ok));
    const cases: [unknown, number, RegExp][] = [
      [new CliError("bad flag", 2), 2, /^bad flag$/],
      [caught(() => readFileSync("/nonexistent/file")), 3, /^\/nonexistent\/file: no such file or folder$/],
      [caught(() => readFileSync("/")), 3, /is a folder/],
      [refused, 4, /^network unreachable: connect ECONNREFUSED/],
      [
        caught(() => new Database(":memory:").prepare("SELECT * FROM nowhere")),
        3,
        /^store: no such table: nowhere/,
      ],
      [Object.assign(new Error("write failed"), { code: "ENOSPC" }), 4, /^the disk is full/],
      [
        new Error("podman run failed (exit 125): boom\n    at x (y.ts:1:1)"),
        4,
        /^container engine: podman run failed/,
      ],
      [
        new TypeError("x is not a function"),
        1,
        /^internal error: x is not a function \(SWEU_LOG=debug shows where\)$/,
      ],
    ];
    for (const [e, code, re] of cases) {
      const m = mapError(e);
      expect(m.code, String(e)).toBe(code);
      expect(m.message).toMatch(re);
      expect(m.message).not.toContain("\n");
    }
  });

  it("an interrupted process exits 130 or 143 whatever the error was", () => {
    expect(mapError(new Error("database connection is not open"), "SIGINT").code).toBe(130);
    expect(mapError(new Error("x"), "SIGTERM").code).toBe(143);
  });
});
