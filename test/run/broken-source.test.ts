/**
 * A clone with missing objects, tried as a new user would (`run` on it): the repository is an input error,
 * said once, and its tasks stay pending (no rejection is recorded, a repaired clone builds them).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { TestRepo } from "../helpers/repos.ts";
import { spawnCli } from "../queue/cli.ts";

/** Three PRs over a repository whose large file none of them touches; in the clone, that file's blob is gone. */
function brokenClone(): string {
  const r = new TestRepo("sweu-broken-");
  r.commit("Initial", {
    "data.bin": "x".repeat(200_000),
    "m.py": "X = 0\n",
    "test_m.py": "def test_x():\n    pass\n",
  });
  for (let i = 1; i <= 3; i++)
    r.squashPr(i, `Change ${i}`, "", {
      "m.py": `X = ${i}\n`,
      "test_m.py": `from m import X\n\ndef test_x():\n    assert X == ${i}\n`,
    });
  const clone = mkdtempSync(join(tmpdir(), "sweu-broken-clone-"));
  execFileSync("git", ["clone", "-q", "--no-local", r.dir, clone]);
  const blob = execFileSync("git", ["rev-parse", "HEAD:data.bin"], { cwd: clone, encoding: "utf8" }).trim();
  // Unpack, then drop the one object: what a snapshot without its largest objects looks like.
  for (const pack of execFileSync("sh", ["-c", "ls .git/objects/pack/*.pack"], {
    cwd: clone,
    encoding: "utf8",
  })
    .trim()
    .split("\n")) {
    execFileSync("sh", ["-c", `mv ${pack} /tmp/ && git unpack-objects -q < /tmp/${pack.split("/").pop()}`], {
      cwd: clone,
    });
    rmSync(join(clone, pack.replace(/\.pack$/, ".idx")), { force: true });
  }
  rmSync(join(clone, ".git", "objects", blob.slice(0, 2), blob.slice(2)));
  return clone;
}

describe("run on a clone with missing objects", () => {
  it("names the broken repository once (exit 3) and leaves every task pending", async () => {
    const clone = brokenClone();
    const runDir = mkdtempSync(join(tmpdir(), "sweu-broken-run-"));
    const p = spawnCli(["run", clone, "--run-dir", runDir, "--skip-probes", "--runs", "1", "--no-progress"]);
    expect(await p.exited, p.err()).toBe(3);
    const err = p.err();
    expect(err.match(/is broken/g)).toHaveLength(1);
    expect(err).toMatch(/the source repository of local\/[\w.-]+ is broken: .*(unable to read|missing)/);
    expect(err).not.toMatch(/sandbox_error| {4}at /); // no rejection, no stack trace
    const store = new SqliteStore(join(runDir, "store.sqlite"));
    try {
      expect(store.listTasks()).toHaveLength(3);
      expect(store.listRejections().filter((r) => r.stage === "build" || r.stage === "validate")).toEqual([]);
      expect(store.funnel().pending).toBe(3);
    } finally {
      store.close();
    }
  }, 600_000);
});
