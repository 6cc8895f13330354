/**
 * The labelled verifier corpus (test/fixtures/verifier-corpus): honest verifiers written the way other
 * datasets write them, hacked ones of many kinds, broken ones, on the three small projects of
 * test/helpers/repos-corpus.ts. Adds at run time SWE-bench's own eval.sh as its package generates it
 * (test/consumers/swebench_scripts.py; never committed) and each instance's own evaluation.sh. Audits each
 * one statically and with probes, and tallies recall on hacked and false alarms on honest verifiers, per
 * check and overall. Used by the CI test (test/e2e/verifier-corpus.test.ts) and bench/verifier-corpus.bench.ts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type AuditReport, auditVerifier } from "../../src/checks/audit.ts";
import { fixSources } from "../../src/checks/fix-sources.ts";
import { goldLines } from "../../src/checks/static-patch.ts";
import { presentTestFiles } from "../../src/harness/run-state.ts";
import { GitSource } from "../../src/mine/git-source.ts";
import { mine } from "../../src/mine/mine.ts";
import type { Instance } from "../../src/records/index.ts";
import { runPipeline } from "../../src/run/pipeline.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { corpusGoProject, corpusNodeProject, corpusPythonProject } from "./repos-corpus.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const DIR = join(ROOT, "test/fixtures/verifier-corpus");

export type Lang = "python" | "js" | "go";
export type Label = "honest" | "hacked" | "broken";

export interface CorpusCase {
  name: string;
  lang: Lang;
  label: Label;
  kind: string;
  script: string;
}

export interface CorpusTask {
  lang: Lang;
  instance: Instance;
  /** Resolved contents of the files the fix changes (hashes and sizes in the templates). */
  resolved: Record<string, string>;
}

const PROJECTS: Record<Lang, { make: () => { dir: string }; ext: string; test_cmd: string }> = {
  python: { make: corpusPythonProject, ext: "py", test_cmd: "" },
  js: { make: corpusNodeProject, ext: "js", test_cmd: "node --test test/*.test.js" },
  go: { make: corpusGoProject, ext: "go", test_cmd: "go test -v ./calc/" },
};

/** Build one project's instance through the real pipeline (recipe, one run per state, probes left to the audit). */
export async function buildCorpusTask(sandbox: Sandbox, lang: Lang): Promise<CorpusTask> {
  const runDir = mkdtempSync(join(tmpdir(), `sweu-vc-${lang}-`));
  const store = new SqliteStore(join(runDir, "store.sqlite"));
  try {
    const repo = PROJECTS[lang].make();
    const summary = await runPipeline(await GitSource.open(repo.dir), store, sandbox, {
      runDir,
      runsPerState: 1,
      skipProbes: true,
    });
    const instance = store.listInstances()[0];
    if (summary.instances !== 1 || !instance)
      throw new Error(`${lang}: no instance: ${JSON.stringify(store.listRejections())}`);
    const src = await fixSources(sandbox, instance.image, instance.patch);
    if (!src.ok) throw new Error(src.error);
    const resolved = Object.fromEntries(
      src.files.filter((f) => f.resolved !== undefined).map((f) => [f.path, f.resolved!]),
    );
    return { lang, instance, resolved };
  } finally {
    store.close();
  }
}

/**
 * The task of one project without building anything (for the static rules alone): mined from the test
 * repository as the pipeline mines it, resolved files read from git. No image, no evaluation.sh of ours.
 */
export async function corpusTaskFromGit(lang: Lang): Promise<CorpusTask> {
  const repo = PROJECTS[lang].make();
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), `sweu-vcs-${lang}-`)), "store.sqlite"));
  const source = await GitSource.open(repo.dir);
  try {
    await mine(source, store);
    const task = store.listTasks()[0];
    if (!task) throw new Error(`${lang}: nothing mined`);
    const resolved: Record<string, string> = {};
    for (const m of task.patch.matchAll(/^\+\+\+ b\/(.+)$/gm)) {
      const r = spawnSync("git", ["show", `${task.resolved_commit}:${m[1]}`], {
        cwd: repo.dir,
        encoding: "utf8",
      });
      if (r.status === 0) resolved[m[1]!] = r.stdout;
    }
    const instance = { ...task, image: "", evaluation_script: "" } as unknown as Instance;
    return { lang, instance, resolved };
  } finally {
    store.close();
    await source.close();
  }
}

const digest = (algo: string, s: string) => createHash(algo).update(s).digest("hex");

/** Fill a template's placeholders from the task; undefined when one cannot be filled. */
export function render(template: string, t: CorpusTask): string | undefined {
  const i = t.instance;
  // A line only the fix adds to its code (not to a changelog).
  const code = i.patch.split(/^(?=diff --git )/m).filter((x) => /^diff --git a\/\S+\.(?:py|js|go) /.test(x));
  const ctx = { gold_patch: code.join(""), test_patch: i.test_patch, test_files: [], code_files: [] };
  const values: Record<string, (arg: string) => string | undefined> = {
    BASE: () => i.base_commit,
    TEST_FILES: () => presentTestFiles(i).join(" "),
    TEST_PATCH: () => i.test_patch.replace(/\n$/, ""),
    GOLD_LINE: () => goldLines(ctx).find((l) => !l.includes("'")),
    SHA256: (p) => (t.resolved[p] === undefined ? undefined : digest("sha256", t.resolved[p]!)),
    SHA1: (p) => (t.resolved[p] === undefined ? undefined : digest("sha1", t.resolved[p]!)),
    MD5: (p) => (t.resolved[p] === undefined ? undefined : digest("md5", t.resolved[p]!)),
    SIZE: (p) => (t.resolved[p] === undefined ? undefined : String(Buffer.byteLength(t.resolved[p]!))),
  };
  let missing = false;
  const out = template.replace(/\{\{(\w+)(?::([^}]+))?\}\}/g, (_, key: string, arg?: string) => {
    const v = values[key]?.(arg ?? "");
    if (v === undefined) missing = true;
    return v ?? "";
  });
  return missing ? undefined : out;
}

/** The Python that runs SWE-bench's package: SWEU_SWEBENCH_PYTHON, else .tools/swebench (scripts/setup.sh). */
export function swebenchPython(): string {
  const py = process.env.SWEU_SWEBENCH_PYTHON ?? join(ROOT, ".tools", "swebench", "bin", "python");
  if (!existsSync(py))
    throw new Error(
      `${py} is missing: run scripts/test.sh (its set-up installs SWE-bench's package), or set SWEU_SWEBENCH_PYTHON`,
    );
  return py;
}

/** SWE-bench's own eval.sh for the task, generated by its package. */
export function swebenchScript(t: CorpusTask, python: string): string {
  const input = JSON.stringify({
    repo: t.instance.repo,
    version: "1.0",
    ext: PROJECTS[t.lang].ext,
    base_commit: t.instance.base_commit,
    test_patch: t.instance.test_patch,
    test_cmd: PROJECTS[t.lang].test_cmd,
  });
  const r = spawnSync(python, [join(ROOT, "test/consumers/swebench_scripts.py")], {
    input,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`swebench_scripts.py failed: ${r.stderr}`);
  return r.stdout;
}

/** Every case of the corpus for one task: its files, SWE-bench's generated script, the instance's own. */
export function corpusCases(t: CorpusTask, o: { swebench?: string } = {}): CorpusCase[] {
  const entries = JSON.parse(readFileSync(join(DIR, "corpus.json"), "utf8")) as {
    file: string;
    lang: Lang;
    label: Label;
    kind: string;
  }[];
  const cases: CorpusCase[] = [];
  for (const e of entries.filter((x) => x.lang === t.lang)) {
    const script = render(readFileSync(join(DIR, e.file), "utf8"), t);
    if (!script) throw new Error(`${e.file}: a placeholder has no value for this task`);
    cases.push({ name: e.file.replace(/\.sh$/, ""), lang: e.lang, label: e.label, kind: e.kind, script });
  }
  if (t.instance.evaluation_script)
    cases.push({
      name: `${t.lang}/h-ours`,
      lang: t.lang,
      label: "honest",
      kind: "ours: the instance's evaluation.sh (recipe-built, nonce markers)",
      script: t.instance.evaluation_script,
    });
  if (o.swebench)
    cases.push({
      name: `${t.lang}/h-swebench`,
      lang: t.lang,
      label: "honest",
      kind: "SWE-bench's eval.sh as its package (4.x) generates it",
      script: swebenchScript(t, o.swebench),
    });
  return cases;
}

export interface CorpusResult {
  case: CorpusCase;
  static: AuditReport;
  probes?: AuditReport;
  ms: number;
}

/** Audit one case: static rules alone, then (with a sandbox) every check. */
export async function auditCase(
  c: CorpusCase,
  t: CorpusTask,
  o: { sandbox?: Sandbox; timeoutMs?: number } = {},
): Promise<CorpusResult> {
  const i = t.instance;
  const input = {
    instance_id: i.instance_id,
    patch: i.patch,
    test_patch: i.test_patch,
    code_files: [
      ...new Set(i.patch.match(/^diff --git a\/\S+ b\/(\S+)$/gm)?.map((l) => l.split(" b/")[1]!) ?? []),
    ],
    evaluation_script: c.script,
    repo: i.repo,
    title: i.problem_statement.split("\n")[0]!,
  };
  const started = Date.now();
  const stat = await auditVerifier(input);
  const probes = o.sandbox
    ? await auditVerifier(input, { sandbox: o.sandbox, image: i.image, timeoutMs: o.timeoutMs ?? 60_000 })
    : undefined;
  return { case: c, static: stat, ...(probes ? { probes } : {}), ms: Date.now() - started };
}

/** Audit every case, `concurrency` at a time, in corpus order. */
export async function runCorpus(
  cases: CorpusCase[],
  t: CorpusTask,
  o: {
    sandbox?: Sandbox;
    timeoutMs?: number;
    concurrency?: number;
    onResult?: (r: CorpusResult) => void;
  } = {},
): Promise<CorpusResult[]> {
  const out: CorpusResult[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await auditCase(cases[i]!, t, o);
      o.onResult?.(out[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 1) }, worker));
  return out;
}

export interface Rate {
  hit: number;
  of: number;
}
const rate = (hit: number, of: number): Rate => ({ hit, of });
const pct = (r: Rate) => (r.of ? `${((100 * r.hit) / r.of).toFixed(0)}% (${r.hit}/${r.of})` : "—");

export interface Tally {
  perCheck: { check: string; recall: Rate; falseAlarms: Rate }[];
  overall: { static: { recall: Rate; falseAlarms: Rate }; probes?: { recall: Rate; falseAlarms: Rate } };
  broken: { static: Rate; probes?: Rate };
  /** Cases whose probed verdict is not their label. */
  misses: string[];
}

/** Recall on hacked verifiers and false alarms on honest ones, per check and overall. */
export function tally(results: CorpusResult[]): Tally {
  const hacked = results.filter((r) => r.case.label === "hacked");
  const honest = results.filter((r) => r.case.label === "honest");
  const broken = results.filter((r) => r.case.label === "broken");
  const report = (r: CorpusResult) => r.probes ?? r.static;
  const checks = [...new Set(results.flatMap((r) => report(r).checks.map((c) => c.check)))];
  const fired = (r: CorpusResult, check: string) =>
    report(r).checks.some((c) => c.check === check && !c.passed);
  const perCheck = checks.map((check) => ({
    check,
    recall: rate(hacked.filter((r) => fired(r, check)).length, hacked.length),
    falseAlarms: rate(honest.filter((r) => fired(r, check)).length, honest.length),
  }));
  const flagged = (rep: AuditReport | undefined) => !!rep && rep.verdict !== "honest";
  const withProbes = results.every((r) => r.probes);
  return {
    perCheck,
    overall: {
      static: {
        recall: rate(hacked.filter((r) => flagged(r.static)).length, hacked.length),
        falseAlarms: rate(honest.filter((r) => flagged(r.static)).length, honest.length),
      },
      ...(withProbes
        ? {
            probes: {
              recall: rate(hacked.filter((r) => flagged(r.probes)).length, hacked.length),
              falseAlarms: rate(honest.filter((r) => flagged(r.probes)).length, honest.length),
            },
          }
        : {}),
    },
    broken: {
      static: rate(broken.filter((r) => flagged(r.static)).length, broken.length),
      ...(withProbes
        ? { probes: rate(broken.filter((r) => r.probes?.verdict === "broken").length, broken.length) }
        : {}),
    },
    misses: results
      .filter((r) => r.probes && r.probes.verdict !== r.case.label)
      .map(
        (r) =>
          `${r.case.name} (${r.case.label}): ${r.probes!.verdict} — ${r.probes!.because.join("; ").slice(0, 300)}`,
      ),
  };
}

/** The tally as the README's tables. */
export function tallyTable(t: Tally, n: Record<Label, number>): string {
  const o = t.overall;
  return [
    `| | recall on hacked (${n.hacked}) | false alarms on honest (${n.honest}) |`,
    "| --- | --- | --- |",
    `| static rules alone | ${pct(o.static.recall)} | ${pct(o.static.falseAlarms)} |`,
    ...(o.probes
      ? [`| with probes (the verdict) | ${pct(o.probes.recall)} | ${pct(o.probes.falseAlarms)} |`]
      : []),
    "",
    `Broken verifiers (${n.broken}) not called honest: static alone ${pct(t.broken.static)}${t.broken.probes ? `; called broken with probes ${pct(t.broken.probes)}` : ""}.`,
    "",
    "| check | fires on hacked (recall) | fires on honest (false alarms) |",
    "| --- | --- | --- |",
    ...t.perCheck.map((c) => `| ${c.check} | ${pct(c.recall)} | ${pct(c.falseAlarms)} |`),
  ].join("\n");
}
