import type { Command } from "commander";
import { SourceError } from "../../mine/errors.ts";
import { formatFunnel, mineFunnel } from "../../mine/funnel.ts";
import { mine } from "../../mine/mine.ts";
import type { Source } from "../../mine/source.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { CliError, Exit } from "../exit-codes.ts";
import { assertFolderHolds, type OpenRun, openRunFolder } from "../run-folder.ts";
import { graceOnInterrupt, interruption } from "../signals.ts";
import { openSource, type SourceFlags } from "./source.ts";

interface MineFlags extends SourceFlags {
  model?: string;
  baseUrl?: string;
  json?: boolean;
  limit?: string;
  since?: string;
  maxFiles?: string;
  maxLines?: string;
  wait?: boolean;
}

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${name} must be a positive integer`, Exit.usage);
  return n;
};

/** Why a run can find nothing, and what to try: not an error (exit 0), but never a silent zero. */
function noCandidatesNote(source: Source, since: string | undefined): string {
  const window = since ? ` since ${since}` : "";
  if (source.kind === "github") {
    return `swe-universe: note: the GitHub API lists no closed pull requests for ${source.repo}${window}.\n`;
  }
  return (
    `swe-universe: note: no merged pull requests found in the history of ${source.repo}${window}. ` +
    'Looked for merge commits "Merge pull request #N from …" and squash commits titled "… (#N)". ' +
    "A repository merged by rebase carries no PR numbers in its history: mine it through the API with " +
    "`swe-universe mine --github owner/name`.\n"
  );
}

export function registerMine(program: Command): void {
  program
    .command("mine")
    .description("Find merged pull requests in a repository and split them into tasks")
    .argument("<repo>", "local repository path, clone URL, or owner/name with --github")
    .option("--json", "print the funnel as a JSON object")
    .option("--run-dir <dir>", "run folder (default ./runs/<owner__name>/); the store is store.sqlite inside")
    .option("--limit <n>", "stop after n candidates")
    .option("--since <date>", "only PRs merged at or after this date")
    .option("--max-files <n>", "reject PRs touching more files (default 100)")
    .option("--max-lines <n>", "reject PRs changing more lines (default 5000)")
    .option("--github", "list PRs through the GitHub API (GITHUB_TOKEN), diff from a clone")
    .option("--repo-name <owner/name>", "repository name to record (default: from origin, else local/<dir>)")
    .option(
      "--api-url <url>",
      "GitHub API base URL (GitHub Enterprise); default GITHUB_API_URL or api.github.com",
    )
    .option(
      "--clone-url <url|path>",
      "with --github: where to clone from (default https://github.com/<repo>.git)",
    )
    .option(
      "--model <name>",
      "model of the PR quality filter's LLM checks (default SWEU_MODEL; rules always run)",
    )
    .option("--base-url <url>", "OpenAI-compatible endpoint of that model (default SWEU_MODEL_BASE_URL)")
    .option("--no-wait", "fail at once (exit 4) when another process holds the run folder")
    .action(async (target: string, f: MineFlags) => {
      const opts = {
        model: modelFromConfig({ model: f.model, baseURL: f.baseUrl }),
        limit: int("--limit", f.limit),
        maxFiles: int("--max-files", f.maxFiles),
        maxLines: int("--max-lines", f.maxLines),
        since: f.since,
      };
      const started = Date.now();
      let source: Source | undefined;
      let folder: OpenRun | undefined;
      // At a signal, mining stops between candidates and the funnel is printed before the process exits.
      graceOnInterrupt(3000);
      try {
        const opened = await openSource(target, f);
        source = opened.source;
        const clone = (source as Source & { git?: { dir: string } }).git?.dir;
        folder = await openRunFolder(opened.runDir, { verb: "mine", create: true, wait: f.wait });
        const store = folder.store;
        await assertFolderHolds(store, opened.runDir, source.repo, clone);
        const controller = { signal: interruption };
        const run = await mine(source, store, { ...opts, signal: controller.signal });
        // `build --run-dir` finds the clone here (as after `run`), without --repo.
        if (clone) store.setMeta(`git_dir:${source.repo}`, clone);
        const funnel = mineFunnel(store, source.repo);
        const seconds = (Date.now() - started) / 1000;
        if (f.json) {
          const out = { ...funnel, run_dir: opened.runDir, this_run: run, seconds };
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        } else {
          process.stdout.write(formatFunnel(funnel, seconds));
        }
        if (funnel.candidates === 0 && !controller.signal.aborted)
          process.stderr.write(noCandidatesNote(source, f.since));
        if (controller.signal.aborted) process.exitCode = Exit.interrupted;
      } catch (e) {
        if (e instanceof SourceError) {
          throw new CliError(e.message, e.kind === "input" ? Exit.input : Exit.unavailable);
        }
        throw e;
      } finally {
        await source?.close();
        folder?.close();
      }
    });
}
