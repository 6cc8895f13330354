/**
 * Mine benchmark: builds a synthetic repository with N merged PRs (default 10,000; half merge commits, half
 * squash commits, each changing a source file and its test) with one `git fast-import` stream, then mines
 * it into a fresh SQLite store and prints candidates per second.
 *
 *   node bench/mine.bench.ts [N]
 *
 * `runMineBench(n)` is exported for the CI smoke test (test/mine/bench.test.ts, N = 200).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GitSource } from "../src/mine/git-source.ts";
import { mine } from "../src/mine/mine.ts";
import { SqliteStore } from "../src/store/sqlite.ts";

const MODULES = 50;
const FILLER = Array.from({ length: 20 }, (_, i) => `def helper_${i}(x):\n    return x * ${i}\n`).join("");

function fastImportStream(n: number): string {
  const out: string[] = [];
  let mark = 0;
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const blob = (content: string) => {
    mark++;
    out.push(`blob\nmark :${mark}\n${data(content)}`);
    return mark;
  };
  const who = (t: number) => `committer Bench <bench@example.com> ${1_600_000_000 + t} +0000\n`;
  const files: string[] = [];
  for (let m = 0; m < MODULES; m++) {
    files.push(`M 100644 :${blob(`VERSION = 0\n${FILLER}`)} src/mod${m}.py`);
    files.push(`M 100644 :${blob(`def test_v():\n    assert True  # 0\n`)} tests/test_mod${m}.py`);
  }
  mark++;
  let main = mark;
  out.push(`commit refs/heads/main\nmark :${main}\n${who(0)}${data("initial")}${files.join("\n")}\n`);
  for (let i = 1; i <= n; i++) {
    const m = i % MODULES;
    const src = blob(`VERSION = ${i}\n${FILLER}`);
    const test = blob(`def test_v():\n    assert True  # ${i}\n`);
    const change = `M 100644 :${src} src/mod${m}.py\nM 100644 :${test} tests/test_mod${m}.py\n`;
    const body = `Change module ${m}, step ${i}\n\nFixes #${100_000 + i}.`;
    if (i % 2 === 0) {
      mark++;
      out.push(
        `commit refs/heads/main\nmark :${mark}\n${who(i)}${data(`Change ${i} (#${i})\n\n${body}`)}${change}`,
      );
    } else {
      mark++;
      const topic = mark;
      out.push(
        `commit refs/heads/topic\nmark :${topic}\n${who(i)}${data(`work ${i}`)}from :${main}\n${change}`,
      );
      mark++;
      const msg = `Merge pull request #${i} from bench/topic-${i}\n\n${body}`;
      out.push(
        `commit refs/heads/main\nmark :${mark}\n${who(i)}${data(msg)}from :${main}\nmerge :${topic}\n${change}`,
      );
    }
    main = mark;
  }
  return out.join("");
}

export interface MineBenchResult {
  n: number;
  listed: number;
  tasks: number;
  rejections: number;
  buildMs: number;
  mineMs: number;
  candidatesPerSecond: number;
}

/** Build the synthetic repository of `n` PRs, mine it into a fresh store, print and return the figures. */
export async function runMineBench(
  n: number,
  print: (line: string) => void = console.log,
): Promise<MineBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "sweu-bench-mine-"));
  try {
    let t = Date.now();
    spawnSync("git", ["init", "-q", "-b", "main", join(dir, "repo")]);
    const imp = spawnSync("git", ["fast-import", "--quiet"], {
      cwd: join(dir, "repo"),
      input: fastImportStream(n),
      maxBuffer: 1 << 30,
    });
    if (imp.status !== 0) throw new Error(`fast-import failed: ${imp.stderr}`);
    spawnSync("git", ["-C", join(dir, "repo"), "branch", "-D", "topic"]);
    const buildMs = Date.now() - t;

    t = Date.now();
    const source = await GitSource.open(join(dir, "repo"), { repoName: "bench/synthetic" });
    const store = new SqliteStore(join(dir, "store.sqlite"));
    const summary = await mine(source, store);
    const mineMs = Date.now() - t;
    await source.close();
    const funnel = store.funnel();
    store.close();

    const rate = summary.listed / (mineMs / 1000);
    print(`repository: ${n} merged PRs built with git fast-import in ${(buildMs / 1000).toFixed(1)} s`);
    print(`mined: ${summary.listed} candidates → ${summary.tasks} tasks, ${summary.rejections} rejections`);
    print(`store: ${funnel.candidates} candidates, ${funnel.tasks} tasks`);
    print(`mine time: ${(mineMs / 1000).toFixed(1)} s, ${rate.toFixed(0)} candidates/s`);
    return { n, ...summary, buildMs, mineMs, candidatesPerSecond: rate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runMineBench(Number(process.argv[2] ?? 10_000));
  if (r.listed !== r.n || r.tasks !== r.n) process.exitCode = 1;
}
