import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A real git repository in a temp dir, with fixed identities and dates so commit ids are stable. */
export class TestRepo {
  readonly dir: string;
  private tick = 0;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), "sweu-mine-"));
    this.git("init", "-q", "-b", "main");
    this.git("config", "core.autocrlf", "false");
    this.git("config", "commit.gpgsign", "false");
  }

  git(...args: string[]): string {
    this.tick++;
    const date = `2024-01-01T00:${String(Math.floor(this.tick / 60) % 60).padStart(2, "0")}:${String(this.tick % 60).padStart(2, "0")}Z`;
    return execFileSync("git", args, {
      cwd: this.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "Test",
        GIT_AUTHOR_EMAIL: "test@example.com",
        GIT_COMMITTER_NAME: "Test",
        GIT_COMMITTER_EMAIL: "test@example.com",
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
        GIT_CONFIG_NOSYSTEM: "1",
        HOME: this.dir,
      },
    }).trim();
  }

  write(path: string, content: string | Buffer, mode?: number): this {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
    if (mode !== undefined) chmodSync(full, mode);
    return this;
  }

  rm(path: string): this {
    this.git("rm", "-q", path);
    return this;
  }

  commit(message: string): string {
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.head();
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  /** A PR merged with a merge commit: `change` runs on a topic branch. */
  mergePr(n: number, title: string, change: (r: this) => void, body = ""): string {
    this.git("checkout", "-q", "-b", `pr-${n}`);
    change(this);
    this.commit(`work for ${title}`);
    this.git("checkout", "-q", "main");
    this.git(
      "merge",
      "-q",
      "--no-ff",
      `pr-${n}`,
      "-m",
      `Merge pull request #${n} from someone/pr-${n}\n\n${title}\n\n${body}`,
    );
    this.git("branch", "-q", "-D", `pr-${n}`);
    return this.head();
  }

  /** A PR merged by squash: one commit titled "title (#n)". */
  squashPr(n: number, title: string, change: (r: this) => void, body = ""): string {
    change(this);
    return this.commit(`${title} (#${n})${body ? `\n\n${body}` : ""}`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function tempDir(prefix = "sweu-mine-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
