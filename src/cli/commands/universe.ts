import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { exportUniverse } from "../../export/index.ts";
import { makeGitHubClient } from "../../mine/github-client.ts";
import { BullQueue } from "../../queue/bullmq.ts";
import type { Budgets, InputNote } from "../../records/index.ts";
import { runIdOf } from "../../run/dispatch.ts";
import { createSandbox } from "../../sandbox/index.ts";
import type { SqliteStore } from "../../store/sqlite.ts";
import { readConfig, writeConfig } from "../../store/universe.ts";
import { checkWithApi, dedupe, type Listing, readRepoList } from "../../universe/inputs.ts";
import { type SearchQuery, searchRepositories } from "../../universe/search.ts";
import {
  recordListing,
  runUniverse,
  type UniverseEvent,
  type UniverseProgress,
  type UniverseSummary,
} from "../../universe/universe.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { parsed } from "../options.ts";
import { assertEngineAnswers, assertRedisReachable } from "../preflight.ts";
import { openRunFolder } from "../run-folder.ts";
import { interruption } from "../signals.ts";
import { addBuildOptions, builderOf } from "./build-options.ts";

interface UniverseOpts {
  repos?: string;
  searchLanguage?: string;
  searchStars?: string;
  searchPushedSince?: string;
  searchLicense?: string;
  searchTopic?: string;
  searchMax?: string;
  apiUrl?: string;
  maxPrs?: string;
  maxBuilds?: string;
  maxMinutes?: string;
  since?: string;
  runDir: string;
  mining: string;
  window?: string;
  redis?: string;
  queue?: string;
  progress?: boolean;
  builder?: string;
  model?: string;
  baseUrl?: string;
  runs: string;
  maxAttempts: string;
  testTimeout: string;
  buildTimeout: string;
  sandbox: string;
  skipProbes?: boolean;
  loadProbeCpus: string;
  reuse?: boolean;
  workers: string;
  registry?: string;
  minFreeDisk: string;
  json?: boolean;
  wait?: boolean;
  only?: string;
}

/** An option's value, already checked by src/cli/options.ts (undefined when not given). */
const num = (key: string, v: string | undefined): number | undefined =>
  v === undefined ? undefined : parsed<number>(key, v);

/** The budgets of the run: as stored; a flag given with another value is a new budget (said so). */
function settleBudgets(store: SqliteStore, o: UniverseOpts, inputs: string[]): Budgets {
  const given: Budgets = {
    prs: num("maxPrs", o.maxPrs),
    builds: num("maxBuilds", o.maxBuilds),
    wall_ms: o.maxMinutes === undefined ? undefined : Math.round(num("maxMinutes", o.maxMinutes)! * 60_000),
  };
  const stored = readConfig(store);
  const budgets: Budgets = { ...(stored?.budgets ?? {}) };
  for (const k of ["prs", "builds", "wall_ms"] as const) {
    if (given[k] === undefined || given[k] === budgets[k]) continue;
    if (stored)
      process.stderr.write(
        `budget ${k}: ${budgets[k] ?? "none"} → ${given[k]} per repository (a new budget)\n`,
      );
    budgets[k] = given[k];
  }
  writeConfig(store, {
    budgets,
    created_at: stored?.created_at ?? new Date().toISOString(),
    inputs: [...new Set([...(stored?.inputs ?? []), ...inputs])],
  });
  return budgets;
}

async function listInputs(
  o: UniverseOpts,
  say: (s: string) => void,
): Promise<{ listing: Listing; inputs: string[] }> {
  const listing: Listing = { repos: [], notes: [] };
  const inputs: string[] = [];
  let waits = 0;
  const api = () =>
    makeGitHubClient({
      token: process.env.GITHUB_TOKEN,
      baseUrl: o.apiUrl ?? process.env.GITHUB_API_URL,
      onWait: (kind, s) => {
        waits++;
        say(`GitHub ${kind}: waiting ${s} s`);
        listing.notes.push({
          from: "github",
          input: `${kind} #${waits} at ${new Date().toISOString()}`,
          kind: "rate_limited",
          detail: `waited ${s} s (${new Date().toISOString()})`,
        });
      },
    });
  if (o.repos) {
    const l = await readRepoList(o.repos);
    // owner/name and GitHub URLs are checked with the API when one is configured (renamed, not found, private).
    if (o.apiUrl || process.env.GITHUB_TOKEN || process.env.GITHUB_API_URL)
      await checkWithApi(api(), l, (r) => r.input === r.name || /github\.com[/:]/i.test(r.input));
    listing.repos.push(...l.repos);
    listing.notes.push(...l.notes);
    inputs.push(`file ${resolve(o.repos)}`);
  }
  const q: SearchQuery = {
    language: o.searchLanguage,
    stars: o.searchStars,
    pushedSince: o.searchPushedSince,
    license: o.searchLicense,
    topic: o.searchTopic,
  };
  if (Object.values(q).some((v) => v !== undefined)) {
    const s = await searchRepositories(api(), q, { max: num("searchMax", o.searchMax) ?? 100 });
    say(`search: ${s.total} repositories match, ${s.repos.length} taken (${s.requests} API requests)`);
    listing.repos.push(...s.repos);
    listing.notes.push(...s.notes);
    inputs.push(`search ${JSON.stringify(q)}`);
  }
  dedupe(listing);
  return { listing, inputs };
}

function line(e: UniverseEvent): string | undefined {
  if (e.type === "note") return noteLine(e.note);
  if (e.type === "infra") return `infrastructure: ${e.kind} at ${e.where}: ${e.detail} → ${e.action}`;
  if (e.type === "paused") return `paused: ${e.why}`;
  if (e.type === "resumed") return `resumed after ${Math.round(e.ms / 1000)} s`;
  if (e.type === "repo" && e.status !== "mining")
    return `${e.repo}: ${e.status}${e.tasks !== undefined ? ` (${e.tasks} tasks to build)` : ""}${e.detail ? `: ${e.detail}` : ""}`;
  return undefined;
}

const noteLine = (n: InputNote) => `input ${n.from} ${JSON.stringify(n.input)}: ${n.kind}: ${n.detail}`;

export function eta(p: UniverseProgress, now = Date.now()): string {
  const left = Math.max(0, p.expected - p.done);
  if (left === 0) return "0s";
  if (p.session.done === 0) return "—";
  const s = (((now - p.session.startedAt) / p.session.done) * left) / 1000;
  return s >= 3600 ? `${(s / 3600).toFixed(1)}h` : s >= 60 ? `${Math.round(s / 60)}m` : `${Math.round(s)}s`;
}

export function registerUniverse(program: Command): void {
  const cmd = program
    .command("universe")
    .description(
      "A run over many repositories (a list, a GitHub search): budgets per repository, fair turns, one dataset",
    )
    .option(
      "--repos <file>",
      "repositories, one per line: a local path, a clone URL or owner/name (# comments)",
    )
    .option("--search-language <lang>", "GitHub search: language")
    .option("--search-stars <n|range>", "GitHub search: stars (100 means >=100; 10..500; >1000)")
    .option("--search-pushed-since <date>", "GitHub search: pushed at or after this date")
    .option("--search-license <key>", "GitHub search: license key, e.g. mit")
    .option("--search-topic <topic>", "GitHub search: topic")
    .option("--search-max <n>", "GitHub search: repositories to take at most (default 100)")
    .option("--api-url <url>", "GitHub API base URL (default GITHUB_API_URL or api.github.com)")
    .option("--max-prs <n>", "per repository: merged PRs mined at most")
    .option("--max-builds <n>", "per repository: tasks built and validated at most")
    .option("--max-minutes <m>", "per repository: wall time of its tasks at most")
    .option("--since <date>", "only PRs merged since this date")
    .option("--run-dir <dir>", "run folder", "runs/universe")
    .option("--mining <n>", "repositories mined at once", "2")
    .option("--window <n>", "with --redis: jobs outstanding in the queue at most")
    .option("--redis <url>", "distributed: hand tasks to `swe-universe worker` processes on this Redis")
    .option("--queue <name>", "tasks queue name with --redis (default sweu-tasks)")
    .option("--no-progress", "no progress bar");
  addBuildOptions(cmd).action(async (o: UniverseOpts) => {
    const { model, builder } = builderOf(o);
    const searching =
      o.searchLanguage ?? o.searchTopic ?? o.searchStars ?? o.searchLicense ?? o.searchPushedSince;
    if (!o.repos && !searching)
      throw new CliError("nothing to run over: pass --repos FILE and/or --search-* options", Exit.usage);
    // A build option `universe` shares with `run` but cannot honour: tasks are chosen by turns and budgets.
    if (o.only !== undefined)
      throw new CliError(
        "--only is not an option of universe (its tasks go by turns and budgets)",
        Exit.usage,
      );
    const { runDir, sandbox, folder, queue } = await openUniverse(o);
    const store = folder.store;
    const view = progressView(o);
    try {
      const { listing, inputs } = await listInputs(o, view.say);
      const budgets = settleBudgets(store, o, inputs);
      recordListing(store, listing, (n) => view.say(noteLine(n)));
      view.start();
      const s = await runUniverse(store, sandbox, {
        ...buildOptions(o),
        runDir,
        budgets,
        since: o.since,
        queue,
        builder,
        model,
        signal: interruption,
        onEvent: view.onEvent,
      });
      view.stop();
      const f = printSummary(store, runDir, s, !!o.json);
      if (f.repositories.length === 0) {
        process.stderr.write(
          `swe-universe: no repository to run over: each of the ${f.inputs.notes.length} input(s) named above is unusable\n`,
        );
        process.exitCode = Exit.input;
      }
    } finally {
      view.stop();
      await queue?.close();
      folder.close();
      await sandbox.cleanup();
    }
  });
}

/** Export the run's dataset, funnel and report, and say where they are; returns the funnel. */
function printSummary(store: SqliteStore, runDir: string, s: UniverseSummary, json: boolean) {
  const ex = exportUniverse(store, runDir);
  const f = ex.funnel;
  if (json) {
    process.stdout.write(`${JSON.stringify({ runDir, ...s, files: ex.files, funnel: f }, null, 2)}\n`);
    return f;
  }
  process.stdout.write(
    `\n${f.repositories.length} repositories: ${f.candidates} candidates → ${f.tasks} tasks → ${f.built} built → ${f.instances} instances` +
      (f.built ? ` (yield ${((f.instances / f.built) * 100).toFixed(1)}%)` : "") +
      `\nthis session: built ${s.built}, ${s.instances} new instances, ${s.rejected} rejected, ${s.failed} left pending by failures` +
      `\ndataset: ${join(runDir, "data")} (${ex.files.shards.length} shards), ${ex.files.jsonl}\nfunnel:  ${ex.files.funnelMd}\nreport:  ${ex.files.html}\n`,
  );
  return f;
}

/**
 * What the run needs before it starts, each checked before anything is created: Redis (with --redis), the
 * engine, then the run folder (created, locked; it holds many repositories, so no one-repository check).
 */
async function openUniverse(o: UniverseOpts) {
  if (o.redis) await assertRedisReachable(o.redis);
  if (o.repos && !existsSync(o.repos)) throw new CliError(`--repos: no such file: ${o.repos}`, Exit.input);
  const runDir = resolve(o.runDir);
  const sandbox = createSandbox(o.sandbox);
  await assertEngineAnswers(sandbox);
  const folder = await openRunFolder(runDir, { verb: "universe", create: true, wait: o.wait });
  const queue = o.redis
    ? new BullQueue({ url: o.redis, queue: o.queue, runId: runIdOf(folder.store) })
    : undefined;
  return { runDir, sandbox, folder, queue };
}

/** The task options and the coordinator's own, from the flags. */
function buildOptions(o: UniverseOpts) {
  return {
    workers: num("workers", o.workers),
    window: num("window", o.window),
    miningConcurrency: num("mining", o.mining),
    registry: o.registry,
    runsPerState: num("runs", o.runs),
    maxAttempts: num("maxAttempts", o.maxAttempts),
    testTimeoutMs: num("testTimeout", o.testTimeout)! * 1000,
    buildTimeoutMs: num("buildTimeout", o.buildTimeout)! * 1000,
    skipProbes: o.skipProbes,
    loadProbeCpus: num("loadProbeCpus", o.loadProbeCpus),
    reuse: o.reuse,
    minFreeDisk: num("minFreeDisk", o.minFreeDisk),
  };
}

/**
 * What the run shows while it goes: a progress bar with an ETA for the whole run on a terminal (else a
 * progress line every 10 s and a line per task), and one line per note, repository and failure.
 */
function progressView(o: UniverseOpts) {
  let bar: cliProgress.SingleBar | undefined;
  let last = 0;
  const say = (s: string) => process.stderr.write(`${bar ? "\n" : ""}${s}\n`);
  const progress = (p: UniverseProgress) => {
    const payload = {
      instances: p.instances,
      mined: p.reposMined,
      repos: p.repos,
      rdone: p.reposDone,
      eta: eta(p),
    };
    if (bar) {
      bar.setTotal(Math.max(1, p.expected));
      bar.update(p.done, payload);
    } else if (!o.json && p.expected > 0 && Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(
        `progress: ${p.done}/${p.expected} tasks, ${p.instances} instances, repos ${p.reposMined}/${p.repos} mined, ${p.reposDone} done, ETA ${payload.eta}\n`,
      );
    }
  };
  return {
    say,
    start() {
      if (o.progress === false || o.json || !process.stderr.isTTY) return;
      bar = new cliProgress.SingleBar(
        {
          format:
            "{bar} {value}/{total} tasks | {instances} instances | repos {mined}/{repos} mined, {rdone} done | ETA {eta}",
          stream: process.stderr,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(1, 0, { instances: 0, mined: 0, repos: 0, rdone: 0, eta: "—" });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    onEvent(e: UniverseEvent) {
      if (e.type === "progress") return progress(e.progress);
      if (e.type === "task-end") {
        if (!bar && !o.json)
          process.stderr.write(
            `  ${e.id}: ${e.outcome === "instance" ? "instance" : `rejected (${e.reason})`} in ${(e.ms / 1000).toFixed(1)}s\n`,
          );
        return;
      }
      const text = line(e);
      if (text && !o.json) say(text);
    },
  };
}
