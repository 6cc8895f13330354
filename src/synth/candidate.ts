/**
 * One candidate bug, validated like a PR instance: it must parse in its language; a first run on the
 * environment's image with the bug applied screens out bugs no test notices, bugs that stop the tests
 * from running at all and bugs that hang them (each a named rejection); then the bug's own thin image is
 * built and the synth gate runs on it (src/checks/gate.ts GATES.synth: static checks, N buggy runs in
 * fresh containers graded against the environment's resolved runs, the exit-code cross-check, the leak
 * and comment probes, inverse mutation). A bug whose failing tests are exactly another's is a duplicate.
 */
import { createHash } from "node:crypto";
import { imageTag } from "../builder/builder.ts";
import { GATES } from "../checks/gate.ts";
import { parserFor } from "../harness/parse-run.ts";
import { runStateRaw, toStateRun } from "../harness/run-state.ts";
import type { Model } from "../model/model.ts";
import type {
  Built,
  Environment,
  Instance,
  ReasonCode,
  StateRun,
  SyntheticCandidate,
  Task,
} from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { validate } from "../validate/validate.ts";
import type { Baseline } from "./baseline.ts";
import { buildBugImage } from "./image.ts";
import { parsesCleanly } from "./lang.ts";
import type { Meter } from "./meter.ts";
import { changedLines, type FileChange, unifiedDiff } from "./patch.ts";
import type { ProblemWriter } from "./problem.ts";
import type { Mutation } from "./strategies.ts";

/** What every candidate of one environment shares. */
export interface EnvContext {
  sandbox: Sandbox;
  inst: Instance;
  task: Task;
  env: Environment;
  baseline: Baseline;
  runsPerState: number;
  testTimeoutMs: number;
  skipProbes?: boolean;
  writer: ProblemWriter;
  /** The judge of the verifier, when a model is configured. */
  judge?: Model;
  /** FAIL_TO_PASS lists of the environment's synthetic instances so far (JSON of the sorted list). */
  known: Set<string>;
  meter: () => Meter;
  signal?: AbortSignal;
}

export type Tried =
  | { outcome: "instance"; instance: Instance }
  | { outcome: "rejected"; reason: ReasonCode; detail: string };

export function candidateId(
  repo: string,
  strategy: string,
  sourceInstance: string,
  bugPatch: string,
): string {
  const h = createHash("sha256").update(`${sourceInstance}\0${bugPatch}`).digest("hex").slice(0, 10);
  return `${repo.replace("/", "__")}.synth.${strategy}.${h}`;
}

const reject = (reason: ReasonCode, detail: string): Tried => ({ outcome: "rejected", reason, detail });

/** A bug's runs must stop well before a hung suite would: a few times the environment's longest run. */
export function bugTimeoutMs(c: Pick<EnvContext, "baseline" | "testTimeoutMs">): number {
  return Math.min(c.testTimeoutMs, Math.max(30_000, 3 * c.baseline.max_ms + 30_000));
}

const key = (tests: readonly string[]) => JSON.stringify([...tests].sort());

/** The first run: the bug on the environment's image. Undefined when the bug is worth an image. */
async function screen(c: EnvContext, bugPatch: string): Promise<Tried | undefined> {
  const timeoutMs = bugTimeoutMs(c);
  const raw = await runStateRaw(c.sandbox, {
    image: c.baseline.image,
    patch: bugPatch,
    testPatch: "",
    evaluationScript: c.baseline.selection.script,
    timeoutMs,
  });
  if (raw.apply !== "applied")
    return reject("internal_error", `the bug does not apply: ${raw.applyLog.slice(-500)}`);
  if (raw.timedOut)
    return reject("mutation_hangs", `the tests did not finish within ${Math.round(timeoutMs / 1000)}s`);
  const run = toStateRun("buggy", raw, parserFor(c.inst.parser));
  const status = new Map(run.tests.map((t) => [t.name, t.status]));
  const broken = c.baseline.passing.filter((t) => status.get(t) !== "PASSED");
  const named = broken.filter((t) => status.get(t) === "FAILED" || status.get(t) === "ERROR");
  if (!broken.length)
    return reject(
      "mutation_no_effect",
      `all ${c.baseline.passing.length} tests that pass at the commit still pass (exit ${raw.exitCode})`,
    );
  if (!run.parsed || !named.length)
    return reject(
      "mutation_uncompilable",
      `no test fails by name: ${broken.length} tests are missing from the output (exit ${raw.exitCode}): ${run.log_tail.slice(-600)}`,
    );
  if (c.known.has(key(broken)))
    return reject(
      "duplicate_failing_tests",
      `the same ${broken.length} failing tests as another bug of this environment`,
    );
  return undefined;
}

/** The Built of a bug: its image, the environment's widened verifier and resolved runs, the gold patch. */
function builtOf(
  c: EnvContext,
  x: {
    id: string;
    head: string;
    image: string;
    dockerfile: string;
    gold: string;
    files: string[];
    buildMs: number;
    mutation: Mutation;
  },
): Built {
  const t = c.task;
  return {
    task: {
      ...t,
      instance_id: x.id,
      base_commit: x.head,
      resolved_commit: x.head,
      created_at: new Date().toISOString(),
      patch: x.gold,
      test_patch: "",
      problem_statement: "",
      problem_statement_source: "template",
      hints_text: "",
      test_files: [],
      code_files: x.files,
      other_files: [],
      needs_generated_tests: false,
    },
    environment: c.env,
    image: x.image,
    reuse: "exact",
    dockerfile: x.dockerfile,
    evaluation_script: c.baseline.selection.script,
    parser: c.inst.parser,
    runs: c.baseline.runs,
    checks: c.baseline.verdicts,
    provenance: {
      kind: x.mutation.strategy === "llm-rewrite" ? "model" : "recipe",
      name: `synth/${x.mutation.strategy}`,
      attempts: 1,
      prompt_tokens: 0,
      completion_tokens: 0,
      usd: 0,
    },
    build_ms: x.buildMs,
  };
}

/** Slow tests (failing under the load quota at the commit) leave the lists; undefined when none fails any more. */
function withoutSlow(inst: Instance, slow: readonly string[]): Instance | undefined {
  const s = new Set(slow);
  const f2p = inst.FAIL_TO_PASS.filter((t) => !s.has(t));
  if (!f2p.length) return undefined;
  const p2p = inst.PASS_TO_PASS.filter((t) => !s.has(t));
  const flaky = [
    ...new Set([
      ...inst.validation.flaky,
      ...inst.FAIL_TO_PASS.filter((t) => s.has(t)),
      ...inst.PASS_TO_PASS.filter((t) => s.has(t)),
    ]),
  ].sort();
  return {
    ...inst,
    FAIL_TO_PASS: f2p,
    PASS_TO_PASS: p2p,
    validation: { ...inst.validation, fail_to_pass: f2p, pass_to_pass: p2p, flaky },
  };
}

async function validated(
  c: EnvContext,
  id: string,
  m: Mutation,
  changes: FileChange[],
  bugPatch: string,
): Promise<Tried> {
  const gold = await unifiedDiff(changes, true);
  const files = changes.map((f) => f.path);
  const tag = imageTag(id);
  const img = await buildBugImage(c.sandbox, { tag, fromImage: c.baseline.image, files: changes, label: id });
  if (!img.ok) return reject("image_build_failed", img.detail);
  const built = builtOf(c, {
    id,
    head: img.head,
    image: tag,
    dockerfile: img.dockerfile,
    gold,
    files,
    buildMs: img.buildMs,
    mutation: m,
  });
  const v = await validate(built, {
    sandbox: c.sandbox,
    parserFor,
    runsPerState: c.runsPerState,
    testTimeoutMs: bugTimeoutMs(c),
    skipProbes: c.skipProbes,
    // The load probe ran once for the environment (its verdict is carried); the leak probe is per bug.
    loadProbeCpus: 0,
    leakProbe: !c.skipProbes,
    judge: c.judge,
    signal: c.signal,
    gate: GATES.synth,
    testFiles: c.baseline.selection.testFiles,
  });
  if (!v.ok) return reject(v.reason, v.detail);
  const inst = withoutSlow(v.instance, c.baseline.slow);
  if (!inst)
    return reject(
      "no_fail_to_pass",
      "every failing test is one that fails under the load quota at the commit",
    );
  if (!inst.PASS_TO_PASS.length)
    return reject("no_fail_to_pass", "no test passes in every run of both states (PASS_TO_PASS is empty)");
  if (c.known.has(key(inst.FAIL_TO_PASS)))
    return reject(
      "duplicate_failing_tests",
      `the same ${inst.FAIL_TO_PASS.length} failing tests as another bug of this environment`,
    );
  const buggy: StateRun[] = inst.validation.runs.filter((r) => r.state === "buggy");
  const ps = await c.writer.write(
    { repo: inst.repo, language: inst.language, failing: inst.FAIL_TO_PASS, runs: buggy, bugPatch, files },
    c.signal,
  );
  return {
    outcome: "instance",
    instance: {
      ...inst,
      problem_statement: ps.text,
      problem_statement_source: ps.source,
      source: "synthetic",
      synthetic: {
        strategy: m.strategy,
        changed_lines: changedLines(bugPatch),
        files,
        symbols: m.symbols,
        source_instance: c.inst.instance_id,
        source_commit: c.inst.base_commit,
      },
      cost: {
        ...inst.cost,
        prompt_tokens: inst.cost.prompt_tokens + (ps.usage?.prompt_tokens ?? 0),
        completion_tokens: inst.cost.completion_tokens + (ps.usage?.completion_tokens ?? 0),
        usd: inst.cost.usd + (ps.usage?.usd ?? 0),
      },
    },
  };
}

/** Try one mutation end to end; the record says what it came to (the instance is the caller's to store). */
export async function tryCandidate(
  c: EnvContext,
  m: Mutation,
  changes: FileChange[],
  bugPatch: string,
): Promise<{ record: SyntheticCandidate; instance?: Instance }> {
  const started = Date.now();
  const meter = c.meter();
  const cpu0 = meter.cpuMs;
  const id = candidateId(c.inst.repo, m.strategy, c.inst.instance_id, bugPatch);
  let tried: Tried;
  const bad = [];
  for (const f of changes) if (!(await parsesCleanly(f.path, f.after))) bad.push(f.path);
  if (bad.length) tried = reject("mutation_unparsable", `does not parse: ${bad.join(", ")}`);
  else tried = (await screen(c, bugPatch)) ?? (await validated(c, id, m, changes, bugPatch));
  if (tried.outcome === "rejected") await c.sandbox.removeImage(imageTag(id)).catch(() => {});
  else c.known.add(key(tried.instance.FAIL_TO_PASS));
  const record: SyntheticCandidate = {
    id,
    repo: c.inst.repo,
    environment_key: c.env.key,
    source_instance: c.inst.instance_id,
    strategy: m.strategy,
    files: changes.map((f) => f.path),
    symbols: m.symbols,
    note: m.note,
    bug_patch: bugPatch,
    changed_lines: changedLines(bugPatch),
    outcome: tried.outcome,
    ...(tried.outcome === "rejected"
      ? { reason: tried.reason, detail: tried.detail.slice(0, 4000) }
      : { detail: "" }),
    cpu_ms: meter.cpuMs - cpu0,
    cpu_measured: meter.measured,
    wall_ms: Date.now() - started,
    at: new Date().toISOString(),
  };
  return { record, ...(tried.outcome === "instance" ? { instance: tried.instance } : {}) };
}
