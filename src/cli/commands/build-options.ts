import type { Command } from "commander";
import { type BuilderKind, chooseBuilder } from "../../builder/policies.ts";
import type { Model } from "../../model/model.ts";
import { modelFromConfig } from "../../model/openai.ts";
import { parseSize } from "../../util/size.ts";
import { CliError, Exit } from "../exit-codes.ts";

/** The model (from --model/--base-url or the environment) and the builder (--builder) a build verb runs with. */
export function builderOf(opts: { builder?: string; model?: string; baseUrl?: string }): {
  model: Model | undefined;
  builder: BuilderKind;
} {
  const model = modelFromConfig({ model: opts.model, baseURL: opts.baseUrl });
  try {
    return { model, builder: chooseBuilder(opts.builder, model) };
  } catch (e) {
    throw new CliError((e as Error).message, Exit.usage);
  }
}

/** The load probe's CPU quota: a number of CPUs, 0 to turn the probe off; a usage error otherwise. */
export function cpus(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new CliError(
      `${flag} must be a number of CPUs (0 turns the load probe off), got "${text}"`,
      Exit.usage,
    );
  return n;
}

/** A size option ("500M", "2G") in bytes; a usage error otherwise. */
export function size(text: string, flag: string): number {
  try {
    return parseSize(text);
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`, Exit.usage);
  }
}

/** Options shared by the verbs that build and validate environments (`run`, `build`). */
export function addBuildOptions(cmd: Command): Command {
  return cmd
    .option("--runs <n>", "validation runs per state", "3")
    .option("--max-attempts <n>", "image builds to try per task", "6")
    .option("--test-timeout <sec>", "timeout of one evaluation run", "900")
    .option("--build-timeout <sec>", "timeout of one image build", "1800")
    .option("--sandbox <kind>", "container engine: auto, docker or podman", "auto")
    .option("--skip-probes", "skip the dynamic probes: hacking and load (faster, weaker)")
    .option(
      "--load-probe-cpus <n>",
      "CPU quota of the load probe, one more gold run that must still resolve (catches tests with time budgets); 0 = off",
      "0.25",
    )
    .option("--no-reuse", "build each task's environment from scratch (no shared environment images)")
    .option("--workers <n>", "tasks built at once in this process", "1")
    .option(
      "--builder <kind>",
      "recipe (default), agent, or cascade (recipes first, the agent where they fail)",
    )
    .option("--model <name>", "model of the building agent (default SWEU_MODEL)")
    .option(
      "--no-statement-writer",
      "with a model: do not let it write problem statements (they are kept or templated, checked by rules)",
    )
    .option(
      "--base-url <url>",
      "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1 (default SWEU_MODEL_BASE_URL)",
    )
    .option(
      "--registry <host/prefix>",
      "push validated images here (by this process, or by the workers with --redis); refusals are retried, then recorded for `swe-universe push`",
    )
    .option(
      "--min-free-disk <size>",
      "pause new tasks while the run folder or the engine's storage has less free space (e.g. 500M, 2G)",
      "1G",
    )
    .option("--only <ids>", "comma-separated instance ids")
    .option(
      "--no-wait",
      "fail at once (exit 4) when another process holds the run folder, instead of waiting",
    )
    .option("--json", "print the summary as JSON");
}
