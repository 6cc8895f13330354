/**
 * The synth stage (`swe-universe synth --run-dir D`, or `run --synth`): for each validated environment of
 * a run, bugs proposed by the strategies (src/synth/strategies.ts) in the code at the environment's
 * commit, each validated like a PR instance (src/synth/candidate.ts) on one thin image layer over the
 * environment's instance image. Instances go into the same store and dataset (`source: synthetic`); every
 * candidate's outcome is a SyntheticCandidate record, so a rerun goes on where it stopped and the yield per
 * strategy can be counted (src/synth/report.ts).
 */
import { repoView } from "../builder/repo.ts";
import { classifyPath, languageOf } from "../mine/classify.ts";
import type { Model } from "../model/model.ts";
import type { Environment, Instance, SyntheticCandidate, Task } from "../records/index.ts";
import { ensureImage } from "../sandbox/image.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Store } from "../store/store.ts";
import { run } from "../util/exec.ts";
import { type Baseline, baselineOf } from "./baseline.ts";
import { candidateId, type EnvContext, tryCandidate } from "./candidate.ts";
import { recentChanges } from "./history.ts";
import { langKeyFor } from "./lang.ts";
import { type Meter, meteredSandbox, newMeter } from "./meter.ts";
import { type FileChange, unifiedDiff } from "./patch.ts";
import { modelWriter, type ProblemWriter, templateWriter } from "./problem.ts";
import { widenSelection } from "./selection.ts";
import { applyEdits, freeTrees, functionsOf, type SourceFile, sourceFile } from "./source.ts";
import { type Mutation, STRATEGIES, seeded } from "./strategies.ts";

export interface SynthOptions {
  sandbox: Sandbox;
  /** The clone holding the environment's history (default: the run's `git_dir:<repo>` meta). */
  gitDir?: string;
  /** Strategy names (default: every one whose needs are met). */
  strategies?: string[];
  /** Candidates proposed per strategy and environment (default 6). */
  perStrategy?: number;
  /** At most this many environments (newest first). */
  maxEnvironments?: number;
  /** Only these environment keys or source instance ids. */
  only?: string[];
  runsPerState?: number;
  testTimeoutMs?: number;
  loadProbeCpus?: number;
  skipProbes?: boolean;
  /** Enables the llm-rewrite strategy and the model's problem statements. */
  model?: Model;
  /** Problem-statement writer (default: the model's when there is one, else the template). */
  writer?: ProblemWriter;
  seed?: string;
  /** Recent commits read for history reversion and hunk removal (default 40). */
  historyCommits?: number;
  maxFiles?: number;
  onEvent?: (e: SynthEvent) => void;
  signal?: AbortSignal;
}

export type SynthEvent =
  | { type: "environment"; key: string; source: string; proposed: number; baseline: string }
  | { type: "skipped"; key: string; why: string }
  | { type: "candidate"; record: SyntheticCandidate; index: number; total: number };

export interface EnvironmentOutcome {
  key: string;
  source_instance?: string;
  ok: boolean;
  detail: string;
  proposed: number;
  tried: number;
  instances: number;
}

export interface SynthSummary {
  environments: EnvironmentOutcome[];
  tried: number;
  instances: number;
}

/** Meta of one environment's synth state: its baseline and the CPU it cost (counted in the report). */
export const baselineMeta = (sourceInstance: string) => `synth:baseline:${sourceInstance}`;

/** The newest PR instance of each environment whose task is on record. */
function sources(store: Store): { env: Environment; inst: Instance; task: Task }[] {
  const out: { env: Environment; inst: Instance; task: Task }[] = [];
  const instances = store.listInstances().filter((i) => i.source !== "synthetic");
  for (const env of store.listEnvironments()) {
    const mine = instances
      .filter((i) => i.environment_key === env.key)
      .map((inst) => ({ inst, task: store.getTask(inst.instance_id) }))
      .filter((x): x is { inst: Instance; task: Task } => !!x.task)
      .sort((a, b) => b.inst.created_at.localeCompare(a.inst.created_at));
    if (mine[0]) out.push({ env, ...mine[0] });
  }
  return out.sort((a, b) => b.inst.created_at.localeCompare(a.inst.created_at));
}

/** Text of many files at a commit, one `git cat-file --batch`. */
async function readFiles(gitDir: string, commit: string, paths: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!paths.length) return out;
  const r = await run("git", ["-C", gitDir, "cat-file", "--batch"], {
    input: `${paths.map((p) => `${commit}:${p}`).join("\n")}\n`,
    maxBuffer: 512 * 1024 * 1024,
  });
  // Sizes are bytes; files that are not UTF-8 do not parse as source anyway (repoView reads the same way).
  const buf = Buffer.from(r.stdout, "utf8");
  let pos = 0;
  for (const p of paths) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break;
    const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(buf.subarray(pos, nl).toString());
    pos = nl + 1;
    if (!m) continue;
    const size = Number(m[2]);
    if (m[1] === "blob" && size < 1_000_000) out.set(p, buf.subarray(pos, pos + size).toString("utf8"));
    pos += size + 1;
  }
  return out;
}

/** Code files at the commit in the environment's language family, parsed. */
async function codeFiles(
  gitDir: string,
  commit: string,
  files: readonly string[],
  env: Environment,
  max: number,
): Promise<SourceFile[]> {
  const family = (l: string | undefined) => (l === "typescript" ? "javascript" : l);
  const want = family(env.language);
  const paths = files
    .filter((f) => classifyPath(f) === "code" && langKeyFor(f) && family(languageOf(f)) === want)
    .filter(
      (f) => !/(^|\/)(vendor|node_modules|third_party|dist|build|examples?|docs?|benches|scripts)\//.test(f),
    )
    .sort()
    .slice(0, max);
  const texts = await readFiles(gitDir, commit, paths);
  const out: SourceFile[] = [];
  for (const [p, t] of texts) {
    const f = await sourceFile(p, t);
    if (f) out.push(f);
  }
  return out;
}

/** A mutation as file changes (before/after), or undefined when it changes nothing. */
function changesOf(m: Mutation, files: Map<string, SourceFile>): FileChange[] | undefined {
  const out = m.changes.map((c) => {
    const f = files.get(c.path)!;
    return { path: c.path, before: f.text, after: applyEdits(f.text, c.edits) };
  });
  return out.some((c) => c.before !== c.after) ? out.filter((c) => c.before !== c.after) : undefined;
}

async function proposals(
  files: SourceFile[],
  env: Environment,
  base: string,
  gitDir: string,
  o: SynthOptions,
  tried: Map<string, number>,
) {
  const names = (o.strategies ?? Object.keys(STRATEGIES)).filter((n) => STRATEGIES[n]);
  const functions = files.flatMap(functionsOf);
  const usage = { prompt_tokens: 0, completion_tokens: 0, usd: 0 };
  const wantsHistory = names.some((n) => STRATEGIES[n]!.needs === "history");
  const recent = wantsHistory ? await recentChanges(gitDir, base, files, { commits: o.historyCommits }) : [];
  const out: Mutation[] = [];
  for (const name of names) {
    const s = STRATEGIES[name]!;
    if (s.needs === "model" && !o.model) continue;
    // A model's proposals differ at every call: a rerun asks only for what the earlier runs did not try.
    const limit = Math.max(0, (o.perStrategy ?? 6) - (s.needs === "model" ? (tried.get(name) ?? 0) : 0));
    if (!limit) continue;
    const rng = seeded(`${o.seed ?? "sweu"}:${env.key}:${name}`);
    out.push(
      ...(await s.propose({
        functions,
        recent,
        model: o.model,
        signal: o.signal,
        usage,
        rng,
        limit,
      })),
    );
  }
  return { mutations: out, usage };
}

/** The environment's baseline, from the store when an earlier run made it with the same verifier. */
async function baselineFor(
  store: Store,
  sandbox: Sandbox,
  x: {
    inst: Instance;
    task: Task;
    env: Environment;
    image: string;
    view: Awaited<ReturnType<typeof repoView>>;
  },
  o: SynthOptions,
  meter: Meter,
) {
  const plan = { view: x.view, task: x.task, inst: x.inst, env: x.env };
  const first = await widenSelection(plan);
  const saved = store.getMeta(baselineMeta(x.inst.instance_id));
  if (saved) {
    const b = JSON.parse(saved) as { baseline: Baseline; first: string };
    if (b.first === first.script && b.baseline.image === x.image)
      return { ok: true as const, baseline: b.baseline };
  }
  // A verifier that did not pass at the commit is not run again for nothing.
  const failed = store.getMeta(`synth:baseline-failed:${x.inst.instance_id}`);
  if (failed) {
    const f = JSON.parse(failed) as { detail: string; first?: string };
    if (f.first === first.script) return { ok: false as const, detail: f.detail };
  }
  const cpu0 = meter.cpuMs;
  const wall0 = meter.wallMs;
  const r = await baselineOf({
    sandbox,
    image: x.image,
    parser: x.inst.parser,
    runs: o.runsPerState ?? 3,
    timeoutMs: o.testTimeoutMs ?? 15 * 60_000,
    loadProbeCpus: o.skipProbes ? 0 : (o.loadProbeCpus ?? 0.25),
    plan,
    first,
  });
  const cost = { cpu_ms: meter.cpuMs - cpu0, wall_ms: meter.wallMs - wall0, measured: meter.measured };
  // A baseline cut short by a signal (its containers killed with the process group) is no verdict.
  if (o.signal?.aborted) return { ok: false as const, detail: "interrupted" };
  if (r.ok)
    store.setMeta(
      baselineMeta(x.inst.instance_id),
      JSON.stringify({ baseline: r.baseline, first: first.script, cost }),
    );
  else
    store.setMeta(`synth:baseline-failed:${x.inst.instance_id}`, JSON.stringify({ detail: r.detail, cost }));
  return r;
}

async function synthEnvironment(
  store: Store,
  sandbox: Sandbox,
  src: { env: Environment; inst: Instance; task: Task },
  o: SynthOptions,
  meter: Meter,
): Promise<EnvironmentOutcome> {
  const { env, inst, task } = src;
  const out: EnvironmentOutcome = {
    key: env.key,
    source_instance: inst.instance_id,
    ok: false,
    detail: "",
    proposed: 0,
    tried: 0,
    instances: 0,
  };
  const gitDir = o.gitDir ?? store.getMeta(`git_dir:${inst.repo}`);
  if (!gitDir) return { ...out, detail: `the run does not say where ${inst.repo} is cloned (pass --repo)` };
  const img = await ensureImage(sandbox, inst);
  if (!img.ok) return { ...out, detail: img.error };
  const view = await repoView(gitDir, inst.base_commit);
  const files = await codeFiles(gitDir, inst.base_commit, view.files, env, o.maxFiles ?? 400);
  try {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const tried = new Map<string, number>();
    for (const r of store.listSynthetic(inst.repo))
      if (r.source_instance === inst.instance_id) tried.set(r.strategy, (tried.get(r.strategy) ?? 0) + 1);
    const { mutations, usage } = await proposals(files, env, inst.base_commit, gitDir, o, tried);
    const seen = new Set<string>();
    const todo: { m: Mutation; changes: FileChange[]; bugPatch: string; id: string }[] = [];
    for (const m of mutations) {
      const changes = changesOf(m, byPath);
      if (!changes) continue;
      const bugPatch = await unifiedDiff(changes);
      if (seen.has(bugPatch)) continue;
      seen.add(bugPatch);
      todo.push({ m, changes, bugPatch, id: candidateId(inst.repo, m.strategy, inst.instance_id, bugPatch) });
    }
    out.proposed = todo.length;
    const base = await baselineFor(store, sandbox, { inst, task, env, image: img.image, view }, o, meter);
    o.onEvent?.({
      type: "environment",
      key: env.key,
      source: inst.instance_id,
      proposed: todo.length,
      baseline: base.ok ? base.baseline.selection.note : base.detail,
    });
    if (!base.ok) return { ...out, detail: base.detail };
    const known = new Set(
      store
        .listInstances(inst.repo)
        .filter((i) => i.source === "synthetic" && i.environment_key === env.key)
        .map((i) => JSON.stringify([...i.FAIL_TO_PASS].sort())),
    );
    const ctx: EnvContext = {
      sandbox,
      inst,
      task,
      env,
      baseline: base.baseline,
      runsPerState: o.runsPerState ?? 3,
      testTimeoutMs: o.testTimeoutMs ?? 15 * 60_000,
      skipProbes: o.skipProbes,
      writer: o.writer ?? (o.model ? modelWriter(o.model) : templateWriter),
      known,
      meter: () => meter,
      signal: o.signal,
    };
    for (const [i, t] of todo.entries()) {
      if (o.signal?.aborted) break;
      if (store.getSynthetic(t.id)) continue;
      const r = await tryCandidate(ctx, t.m, t.changes, t.bugPatch);
      // A candidate cut short by a signal is not recorded: a rerun tries it again.
      if (o.signal?.aborted) break;
      if (t.m.strategy === "llm-rewrite")
        r.record.note += ` (strategy tokens: ${usage.prompt_tokens}+${usage.completion_tokens})`;
      if (r.instance) store.putInstance(r.instance);
      store.putSynthetic(r.record);
      out.tried++;
      if (r.instance) out.instances++;
      o.onEvent?.({ type: "candidate", record: r.record, index: i, total: todo.length });
    }
    return { ...out, ok: true, detail: base.baseline.selection.note };
  } finally {
    freeTrees(files);
  }
}

/** Synthetic bugs for every validated environment of the run in `store`. */
export async function synthesize(store: Store, sandbox: Sandbox, o: SynthOptions): Promise<SynthSummary> {
  const meter = newMeter();
  const sb = meteredSandbox(sandbox, () => meter);
  const picked = sources(store)
    .filter((s) => !o.only || o.only.includes(s.env.key) || o.only.includes(s.inst.instance_id))
    .slice(0, o.maxEnvironments ?? Number.POSITIVE_INFINITY);
  const environments: EnvironmentOutcome[] = [];
  for (const src of picked) {
    if (o.signal?.aborted) break;
    const r = await synthEnvironment(store, sb, src, { ...o, sandbox: sb }, meter);
    if (!r.ok) o.onEvent?.({ type: "skipped", key: r.key, why: r.detail });
    environments.push(r);
  }
  return {
    environments,
    tried: environments.reduce((n, e) => n + e.tried, 0),
    instances: environments.reduce((n, e) => n + e.instances, 0),
  };
}
