import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { run } from "../util/exec.ts";
import { log } from "../util/log.ts";
import { MissingCommitError, SourceError } from "./errors.ts";
import { PipeProcess } from "./pipe.ts";

/** Settings that keep git's output the same whatever the user's config says. */
export const GIT_CONFIG = [
  "-c",
  "core.quotepath=true",
  "-c",
  "diff.noprefix=false",
  "-c",
  "diff.mnemonicPrefix=false",
  "-c",
  "color.ui=never",
  "-c",
  "log.showSignature=false",
];

export function isCloneUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[\w.-]+@[\w.-]+:/.test(s);
}

/** owner/name from a GitHub-style URL (https://host/owner/name(.git), git@host:owner/name.git). */
export function repoNameFromUrl(url: string): string | undefined {
  const m = /[/:]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.trim());
  if (!m || m[1] === "" || /^\.+$/.test(m[1]!)) return undefined;
  return `${m[1]}/${m[2]}`;
}

/** A repository on disk (bare or not), with long-lived helpers for diffs and object reads. */
export class GitRepo {
  readonly dir: string;
  private readonly token = randomBytes(12).toString("hex");
  private differ: PipeProcess | undefined;
  private reader: PipeProcess | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Open a local repository; clear errors for a missing path, a non-repository, or a shallow clone. */
  static async open(path: string): Promise<GitRepo> {
    const dir = resolve(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new SourceError("input", `not a repository: ${path} does not exist or is not a directory`);
    }
    const r = await run("git", [
      "-C",
      dir,
      "rev-parse",
      "--git-dir",
      "--is-shallow-repository",
      "--show-prefix",
    ]);
    if (r.exitCode !== 0) throw new SourceError("input", `not a git repository: ${path}`);
    const prefix = r.stdout.split("\n")[2]?.trim();
    if (prefix) {
      // Mining a subfolder would mine the whole repository under the subfolder's name: refuse, name the top.
      const top = dir.slice(0, dir.length - prefix.replace(/\/$/, "").length).replace(/\/$/, "");
      throw new SourceError(
        "input",
        `${path} is a subfolder (${prefix}) of the repository at ${top}: give the top level`,
      );
    }
    if (r.stdout.trim().split("\n")[1] === "true") {
      throw new SourceError(
        "input",
        `${path} is a shallow clone: its history is incomplete, so base commits may be missing. ` +
          "Run `git fetch --unshallow` there, or give the clone URL instead.",
      );
    }
    const head = await run("git", ["-C", dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"]);
    if (head.exitCode !== 0) throw new SourceError("input", `${path} has no commits (HEAD does not resolve)`);
    return new GitRepo(dir);
  }

  /**
   * Clone a URL as a bare repository into `cacheDir/<owner__name>.git`, or update the copy already there.
   * Full history and blobs: a partial clone (--filter=blob:none) would fetch blobs one by one while diffing.
   *
   * The clone goes to a sibling `<dir>.partial-<pid>` and is renamed into place when complete, so an
   * interrupted clone never looks like a cached one. A cached copy that cannot be used anyway (no origin
   * remote, HEAD naming a missing branch: left by an older interrupted clone or by hand) is removed and
   * cloned again. After a fetch, HEAD follows the remote's default branch.
   */
  static async clone(url: string, cacheDir: string, name: string, timeoutMs = 30 * 60_000): Promise<GitRepo> {
    mkdirSync(cacheDir, { recursive: true });
    const dir = join(cacheDir, `${name.replace("/", "__")}.git`);
    removeStalePartials(dir);
    const env = { ...process.env, GIT_TERMINAL_PROMPT: "0" };
    const git = (args: string[]) => run("git", args, { env, timeoutMs });
    const fail = (r: { exitCode: number; stderr: string }) =>
      new SourceError("unavailable", `cannot clone ${url}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    if (existsSync(dir)) {
      const origin = await git([`--git-dir=${dir}`, "config", "--get", "remote.origin.url"]);
      if (origin.exitCode !== 0) {
        log.warn({ dir }, "cached clone has no origin remote (interrupted clone?): cloning again");
        rmSync(dir, { recursive: true, force: true });
      } else {
        if (origin.stdout.trim() !== url) await git([`--git-dir=${dir}`, "remote", "set-url", "origin", url]);
        const r = await git([
          `--git-dir=${dir}`,
          "fetch",
          "--quiet",
          "--prune",
          "origin",
          "+refs/heads/*:refs/heads/*",
        ]);
        if (r.exitCode !== 0) throw fail(r);
        await followRemoteHead(dir, git);
        if (!(await resolvesHead(dir))) {
          log.warn({ dir }, "cached clone's HEAD does not resolve (interrupted clone?): cloning again");
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
    if (!existsSync(dir)) {
      const partial = `${dir}.partial-${process.pid}`;
      rmSync(partial, { recursive: true, force: true });
      const r = await git(["clone", "--quiet", "--bare", url, partial]);
      if (r.exitCode !== 0) {
        rmSync(partial, { recursive: true, force: true });
        throw fail(r);
      }
      try {
        renameSync(partial, dir);
      } catch (e) {
        // Another process finished the same clone first: use its copy.
        rmSync(partial, { recursive: true, force: true });
        if (!existsSync(dir)) throw e;
      }
    }
    return GitRepo.open(dir);
  }

  async git(args: string[]): Promise<string> {
    const r = await run("git", [...GIT_CONFIG, ...args], { cwd: this.dir, maxBuffer: 256 * 1024 * 1024 });
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** owner/name from the origin remote when it is a URL (a local path says nothing about the name). */
  async originName(): Promise<string | undefined> {
    const url = await this.originUrl();
    return url ? repoNameFromUrl(url) : undefined;
  }

  /** The origin remote's URL when it is a clone URL (what a machine without this folder can fetch). */
  async originUrl(): Promise<string | undefined> {
    const r = await run("git", ["config", "--get", "remote.origin.url"], { cwd: this.dir });
    const url = r.stdout.trim();
    return r.exitCode === 0 && isCloneUrl(url) ? url : undefined;
  }

  /** `local/<dir>` for a repository without a usable origin. */
  localName(): string {
    const base = basename(this.dir).replace(/\.git$/, "") || "repo";
    return `local/${base.replace(/[^A-Za-z0-9_.-]/g, "-")}`;
  }

  /**
   * The unified diff base..resolved as raw bytes (binary patches, full index lines, renames and copies),
   * served by one `git diff-tree --stdin` process for all candidates.
   */
  async diff(base: string, resolved: string): Promise<Buffer> {
    for (const sha of [base, resolved]) {
      if (!(await this.parents(sha))) throw new MissingCommitError(sha, this.dir);
    }
    this.differ ??= new PipeProcess(
      "git",
      [
        ...GIT_CONFIG,
        "diff-tree",
        "--stdin",
        "-r",
        "-p",
        "--binary",
        "--full-index",
        "-M",
        "-C",
        "--no-commit-id",
      ],
      this.dir,
    );
    const end = Buffer.from(`SWEU-END-${this.token}\n`);
    return this.differ.request(`${resolved} ${base}\nSWEU-END-${this.token}\n`, (buf) => {
      if (buf.subarray(0, end.length).equals(end)) return { value: Buffer.alloc(0), consumed: end.length };
      const at = buf.indexOf(Buffer.concat([Buffer.from("\n"), end]));
      if (at === -1) return undefined;
      return { value: Buffer.from(buf.subarray(0, at + 1)), consumed: at + 1 + end.length };
    });
  }

  /** Read an object (`<commit>:<path>`, `<sha>^{commit}`) through one `git cat-file --batch` process. */
  readObject(spec: string): Promise<{ type: string; content: Buffer } | undefined> {
    this.reader ??= new PipeProcess("git", ["cat-file", "--batch"], this.dir);
    if (spec.includes("\n")) return Promise.resolve(undefined);
    return this.reader.request(`${spec}\n`, (buf) => {
      const nl = buf.indexOf(0x0a);
      if (nl === -1) return undefined;
      const header = buf.subarray(0, nl).toString("utf8");
      const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
      if (!m) return { value: undefined, consumed: nl + 1 }; // "<spec> missing" / "ambiguous"
      const size = Number(m[2]);
      if (buf.length < nl + 1 + size + 1) return undefined;
      return {
        value: { type: m[1]!, content: Buffer.from(buf.subarray(nl + 1, nl + 1 + size)) },
        consumed: nl + 1 + size + 1,
      };
    });
  }

  async readFile(commit: string, path: string): Promise<Buffer | undefined> {
    const o = await this.readObject(`${commit}:${path}`);
    return o?.type === "blob" ? o.content : undefined;
  }

  /** Parents of a commit, or undefined when the commit is not in this repository. */
  async parents(sha: string): Promise<string[] | undefined> {
    const o = await this.readObject(`${sha}^{commit}`);
    if (o?.type !== "commit") return undefined;
    const text = o.content.toString("utf8");
    const head = text.slice(0, text.indexOf("\n\n"));
    return [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
  }

  async close(): Promise<void> {
    await Promise.all([this.differ?.close(), this.reader?.close()]);
    this.differ = undefined;
    this.reader = undefined;
  }
}

type GitRun = (args: string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** Point a bare clone's HEAD at the remote's default branch (it may have been renamed since the clone). */
async function followRemoteHead(dir: string, git: GitRun): Promise<void> {
  const r = await git([`--git-dir=${dir}`, "ls-remote", "--symref", "origin", "HEAD"]);
  const m = /^ref: (refs\/heads\/\S+)\tHEAD$/m.exec(r.stdout);
  if (r.exitCode === 0 && m) await git([`--git-dir=${dir}`, "symbolic-ref", "HEAD", m[1]!]);
}

async function resolvesHead(dir: string): Promise<boolean> {
  return (
    (await run("git", [`--git-dir=${dir}`, "rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).exitCode ===
    0
  );
}

/** Remove `<dir>.partial-<pid>` folders whose process is gone (a clone killed before its rename). */
function removeStalePartials(dir: string): void {
  const prefix = `${basename(dir)}.partial-`;
  for (const entry of readdirSync(dirname(dir))) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) continue;
    rmSync(join(dirname(dir), entry), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
