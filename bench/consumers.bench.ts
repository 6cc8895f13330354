/**
 * Other people's clients on an exported dataset of a real run (issue 10's loop): mini-swe-agent 2.4.6
 * (DefaultAgent, DeterministicModel scripted as an agent acts, DockerEnvironment on the engine), Hugging
 * Face `datasets` (JSONL and Parquet), a SkyRL-style reward (`git apply`, `eval_script`, exit 0), entry as a
 * non-root user; then our `evaluate` grades the agents' predictions. One row per instance.
 *
 *   node bench/consumers.bench.ts --dataset EXPORT_DIR [--only a,b] [--json out.json]
 *
 * The project's test command and the tool that must be on PATH come from the instance's language (below).
 * It starts containers: hold the container lock (flock /tmp/sweu-containers.lock node bench/…).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSandbox } from "../src/sandbox/index.ts";
import type { OciSandbox } from "../src/sandbox/oci.ts";
import { runConsumers } from "../test/helpers/consumers.ts";

/**
 * The test command as an agent types it, its log kept outside /testbed; the summary lines it prints are
 * what the table shows, and the step's exit code is the test command's own.
 */
function shellWay(command: string, summary: string): string {
  return `${command} > /tmp/sweu-tests.log 2>&1; s=$?; sed 's/\\x1b\\[[0-9;]*m//g' /tmp/sweu-tests.log | grep -E '${summary}' | tail -4; exit $s`;
}

/** How each language's project runs its tests, as an agent in the image would, and the tool it needs. */
const PROJECT_WAY: Record<string, { command: string; tool: string }> = {
  python: {
    command: shellWay("python -m pytest -q -p no:cacheprovider", "[0-9]+ (passed|failed|error)"),
    tool: "python",
  },
  javascript: { command: shellWay("npm test", "Tests +[0-9]+|[0-9]+ (passing|failing)"), tool: "node" },
  typescript: { command: shellWay("npm test", "Tests +[0-9]+|[0-9]+ (passing|failing)"), tool: "node" },
  go: { command: shellWay("go test ./...", "^(ok|FAIL|--- FAIL)"), tool: "go" },
  rust: { command: shellWay("cargo test", "^test result:"), tool: "cargo" },
  java: { command: shellWay("mvn -o test", "Tests run:"), tool: "mvn" },
};

const { values } = parseArgs({
  options: { dataset: { type: "string" }, only: { type: "string" }, json: { type: "string" } },
});
if (!values.dataset) {
  console.error("usage: node bench/consumers.bench.ts --dataset EXPORT_DIR [--only a,b] [--json out.json]");
  process.exit(2);
}
const rows = readFileSync(join(values.dataset, "dataset.jsonl"), "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { instance_id: string; language?: string });
const only = values.only ? new Set(values.only.split(",")) : undefined;
const known = (r: { language?: string }) => PROJECT_WAY[(r.language ?? "").toLowerCase()];
for (const r of rows.filter((r) => (!only || only.has(r.instance_id)) && !known(r)))
  console.log(`${r.instance_id}: left out, no project test command for language ${r.language ?? "(none)"}`);
const chosen = rows.filter((r) => (!only || only.has(r.instance_id)) && known(r));
const way = (r: { language?: string }) => known(r)!;
const sandbox = (await createSandbox("auto")) as OciSandbox;
const t0 = performance.now();
const { report, resolved } = await runConsumers(sandbox, values.dataset, {
  commands: Object.fromEntries(chosen.map((r) => [r.instance_id, way(r).command])),
  tools: Object.fromEntries(chosen.map((r) => [r.instance_id, way(r).tool])),
  only: chosen.map((r) => r.instance_id),
  ...(sandbox.engine === "podman" ? { runArgs: ["--tls-verify=false"] } : {}),
});
const d = report.datasets;
console.log(
  `datasets: jsonl ${d.jsonl_rows} rows, parquet ${d.parquet_rows} rows, same columns ${d.same_columns}, same rows ${d.same_rows}`,
);
console.log(
  "| instance | language | tests the project's way (exit; summary) | tool on PATH (5 ways) | git status | SkyRL gold / agent / empty | bad patch | evaluate gold-by-shell / no-op | non-root |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const r of chosen) {
  const x = report.instances[r.instance_id];
  if (!x) {
    console.log(`| ${r.instance_id} | ${r.language} | not run | | | | | | |`);
    continue;
  }
  const t = x.gold_agent.steps[0];
  const last = (t?.output ?? "").trim().split("\n").join("; ").slice(0, 120).replaceAll("|", "\\|");
  const ways = ["bash -lc", "bash -c", "sh -c", "exec", "bash -i"].map((w) => x.entry[w] ?? "");
  const onPath = ways.filter((w) => w !== "").length;
  const s = x.skyrl;
  console.log(
    `| ${r.instance_id} | ${r.language} | ${t?.returncode}; ${last} | ${way(r).tool} ${onPath}/5 (${new Set(ways).size} path) | ${x.entry["git status"] === "" ? "clean" : JSON.stringify(x.entry["git status"])} | ${s.gold.reward} / ${s.agent.reward} / ${s.empty.reward} | exit ${x.bad_patch.exit_code} | ${resolved("msa-gold-by-shell", r.instance_id)} / ${resolved("msa-noop", r.instance_id)} | exit ${x.non_root.exit_code} |`,
  );
}
console.log(`wall ${((performance.now() - t0) / 1000).toFixed(1)} s for ${chosen.length} instances`);
if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 1));
