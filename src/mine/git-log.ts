import { spawn } from "node:child_process";
import type { ChangedFile } from "../records/candidate.ts";
import { decodeLossless } from "../util/lossless.ts";
import { GIT_CONFIG } from "./git.ts";

/** One commit from the log pass, with the files it changes against its first parent. */
export interface LogCommit {
  sha: string;
  parents: string[];
  authorDate: string;
  commitDate: string;
  message: string;
  files: ChangedFile[];
}

export interface LogOptions {
  since?: string;
  /** Extra `--grep` patterns (extended regex); a commit matching any is listed. */
  grep?: string[];
  revisions?: string[];
}

const FORMAT = "%x01%H%x00%P%x00%aI%x00%cI%x00%B%x00";

const STATUS: Record<string, ChangedFile["status"]> = {
  A: "added",
  M: "modified",
  D: "deleted",
  R: "renamed",
  C: "copied",
  T: "type_changed",
};

/** Splits a byte stream into NUL-terminated tokens across chunk boundaries. */
async function* tokens(stream: AsyncIterable<Buffer>): AsyncGenerator<string> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    let buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let at = buf.indexOf(0);
    while (at !== -1) {
      yield decodeLossless(buf.subarray(0, at));
      buf = buf.subarray(at + 1);
      at = buf.indexOf(0);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length) yield decodeLossless(rest);
}

/**
 * One streaming `git log` pass: commit metadata, `--raw` (status, modes, renames/copies) and `--numstat`
 * (line counts, `-\t-` for binary) for every commit, merges diffed against their first parent.
 * Many thousands of commits cost one process.
 */
export async function* gitLog(dir: string, opts: LogOptions = {}): AsyncGenerator<LogCommit> {
  const args = [
    ...GIT_CONFIG,
    "log",
    "-z",
    "--no-abbrev",
    "--raw",
    "--numstat",
    "-M",
    "-C",
    "--diff-merges=first-parent",
    `--format=${FORMAT}`,
  ];
  if (opts.grep?.length) args.push("-E", ...opts.grep.map((g) => `--grep=${g}`));
  if (opts.since) args.push(`--since=${opts.since}`);
  args.push(...(opts.revisions ?? ["HEAD"]), "--");
  const child = spawn("git", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr = (stderr + c.toString("utf8")).slice(-4000);
  });
  const closed = new Promise<number | null>((res) => child.on("close", (code) => res(code)));
  let current: LogCommit | undefined;
  let header: string[] = [];
  const counts = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  const finish = (c: LogCommit) => {
    for (const f of c.files) {
      const n = counts.get(f.path);
      if (n) Object.assign(f, n);
    }
    counts.clear();
    return c;
  };
  let expect: { kind: "raw" | "num"; parts: string[]; need: number } | undefined;
  try {
    for await (let tok of tokens(child.stdout)) {
      if (header.length > 0) {
        header.push(tok);
        if (header.length === 5) {
          const [sha, parents, a, c, message] = header as [string, string, string, string, string];
          current = {
            sha,
            parents: parents.split(" ").filter(Boolean),
            authorDate: a,
            commitDate: c,
            message,
            files: [],
          };
          header = [];
        }
        continue;
      }
      if (expect) {
        expect.parts.push(tok);
        if (expect.parts.length < expect.need) continue;
        const e = expect;
        expect = undefined;
        if (e.kind === "raw") addRaw(current, e.parts);
        else addNum(counts, e.parts);
        continue;
      }
      tok = tok.replace(/^\n+/, "");
      if (tok === "") continue;
      if (tok.startsWith("\x01")) {
        if (current) yield finish(current);
        current = undefined;
        header = [tok.slice(1)];
      } else if (tok.startsWith(":")) {
        const st = tok.split(" ")[4] ?? "";
        expect = { kind: "raw", parts: [tok], need: /^[RC]/.test(st) ? 3 : 2 };
      } else {
        expect = { kind: "num", parts: [tok], need: tok.endsWith("\t") ? 3 : 1 };
        if (expect.need === 1) {
          addNum(counts, expect.parts);
          expect = undefined;
        }
      }
    }
    if (current) yield finish(current);
    const code = await closed;
    if (code !== 0) throw new Error(`git log failed (exit ${code}): ${stderr.trim()}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

function addRaw(c: LogCommit | undefined, parts: string[]): void {
  if (!c) return;
  const [meta, p1, p2] = parts as [string, string, string | undefined];
  const [m1 = "", m2 = "", , , st = "M"] = meta.slice(1).split(" ");
  const status = STATUS[st[0]!] ?? "modified";
  c.files.push({
    path: p2 ?? p1,
    ...(p2 !== undefined ? { old_path: p1 } : {}),
    status,
    additions: 0,
    deletions: 0,
    binary: false,
    submodule: m1 === "160000" || m2 === "160000",
  });
}

function addNum(
  counts: Map<string, { additions: number; deletions: number; binary: boolean }>,
  parts: string[],
): void {
  const [a = "", d = "", p = ""] = parts[0]!.split("\t");
  const path = parts.length === 3 ? parts[2]! : p;
  const binary = a === "-" && d === "-";
  counts.set(path, { additions: binary ? 0 : Number(a), deletions: binary ? 0 : Number(d), binary });
}
