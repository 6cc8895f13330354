/**
 * The self-contained `eval_script` of a dataset row: what trainers and other harnesses run without any
 * code of ours (SkyRL- and SWE-Gym-style: `git apply` the model's patch, run `eval_script`, reward = exit 0).
 *
 * Run in /testbed of a fresh container of the instance's image after the candidate patch was applied, it
 * restores every file the test patch touches to the base commit, applies the test patch, runs the instance's
 * evaluation.sh unchanged and exits with its status. With a file argument it applies that patch first (git
 * apply, then --3way, then patch --fuzz, as our harness does). It needs no nonce: the markers it prints carry
 * an empty one, and the exit code is the verdict.
 *
 * Consumers paste the script into heredocs (`bash <<'EOF'`) and pass it as one argument (`bash -lc SCRIPT`,
 * at most 128 KiB on Linux), so a body whose lines could end such a heredoc, or a test patch that would
 * make the script too long, is embedded as base64 (gzip-compressed when large) instead of plain text.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { sq } from "../util/shell.ts";
import { applyScript, patchFiles } from "./run-state.ts";

export interface EvalScriptInput {
  instance_id: string;
  base_commit: string;
  test_patch: string;
  evaluation_script: string;
}

/** Exit codes of eval_script that are not the tests' own. */
export const EVAL_SCRIPT_EXIT = { noTestbed: 96, patchFailed: 97, testPatchFailed: 98 } as const;

/** Lines that end the heredocs consumers wrap scripts in; an embedded text holding one goes in base64. */
const HEREDOC_WORDS = /^(EOF|EOT|END|SCRIPT|PATCH|EOL)\s*$/m;

/** Above this, the test patch is embedded gzip+base64 so the script fits one command-line argument. */
const PLAIN_LIMIT = 64 * 1024;

function delimiter(tag: string, text: string): string {
  const h = createHash("sha256").update(text).digest("hex").slice(0, 12);
  return `SWEU_${tag}_${h}`;
}

/** Shell that writes `text` to `path`, as a quoted heredoc when that is safe, else decoded from base64. */
function embed(text: string, path: string, tag: string, compressAbove = Number.POSITIVE_INFINITY): string[] {
  const body = text.endsWith("\n") ? text : `${text}\n`;
  const d = delimiter(tag, body);
  if (body.length > compressAbove) {
    const b64 = gzipSync(body)
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n");
    return [`base64 -d <<'${d}' | gunzip > ${path}`, b64.trimEnd(), d];
  }
  if (HEREDOC_WORDS.test(body) || body.split("\n").includes(d)) {
    const b64 = Buffer.from(body)
      .toString("base64")
      .replace(/.{1,76}/g, "$&\n");
    return [`base64 -d > ${path} <<'${d}'`, b64.trimEnd(), d];
  }
  return [`cat > ${path} <<'${d}'`, body.replace(/\n$/, ""), d];
}

export function renderEvalScript(
  inst: EvalScriptInput,
  o: { testbed?: string; scratch?: string } = {},
): string {
  const dir = o.scratch ?? "/tmp/sweu-eval";
  const testbed = o.testbed ?? "/testbed";
  const base = inst.base_commit;
  const restore = patchFiles(inst.test_patch).map(
    (f) =>
      `  if git cat-file -e ${base}:${sq(f)} 2>/dev/null; then git checkout -q ${base} -- ${sq(f)}; else rm -f ${sq(f)}; fi`,
  );
  const apply = applyScript('"$1"')
    .split("\n")
    .map((l) => `    ${l}`);
  const E = EVAL_SCRIPT_EXIT;
  return [
    "#!/bin/bash",
    `# swe-universe eval_script for ${inst.instance_id}: exit 0 = resolved.`,
    "# In a fresh container of the instance's image, after the candidate patch was applied to /testbed:",
    "#   bash eval_script.sh            (or: bash eval_script.sh PATCH_FILE, to apply the patch first)",
    "# It restores the files the test patch touches, applies the test patch and runs the tests.",
    "set -uo pipefail",
    "sweu_eval() {",
    `  cd ${testbed} 2>/dev/null || { echo "eval_script: ${testbed} not found: run this in the instance's image" >&2; return ${E.noTestbed}; }`,
    `  mkdir -p ${dir}`,
    '  if [ "$#" -ge 1 ]; then',
    `    [ -r "$1" ] || { echo "eval_script: cannot read the patch file $1" >&2; return ${E.patchFailed}; }`,
    "    if ! (",
    ...apply.map((l) => `  ${l}`),
    `    ) > ${dir}/apply.log 2>&1; then`,
    `      cat ${dir}/apply.log >&2`,
    `      echo "eval_script: the patch $1 does not apply (git apply, git apply --3way, patch --fuzz=5)" >&2`,
    `      return ${E.patchFailed}`,
    "    fi",
    "  fi",
    "  # The files the test patch touches, as at the base commit; then the test patch.",
    ...restore,
    ...embed(inst.test_patch, `${dir}/test.patch`, "TEST_PATCH", PLAIN_LIMIT),
    `  if ! git apply -v ${dir}/test.patch > ${dir}/test-apply.log 2>&1; then`,
    `    cat ${dir}/test-apply.log >&2`,
    `    echo "eval_script: the test patch does not apply on top of the candidate patch" >&2`,
    `    return ${E.testPatchFailed}`,
    "  fi",
    "  # The instance's evaluation.sh, unchanged: its exit code is the verdict.",
    ...embed(inst.evaluation_script, `${dir}/evaluation.sh`, "EVALUATION"),
    `  bash ${dir}/evaluation.sh < /dev/null`,
    "}",
    // The whole function is read before it runs, so a script fed on stdin (`bash <<'EOF'`) is never eaten.
    'sweu_eval "$@" < /dev/null',
    "exit $?",
    "",
  ].join("\n");
}
