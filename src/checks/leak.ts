import type { CheckVerdict } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

/** Added lines shorter than this (trimmed) are too common to say anything ("}", "return x"). */
const MIN_LINE = 24;
/** At most this many lines are looked for (the longest first). */
const MAX_LINES = 40;

/** The gold patch's added lines that could identify the fix: long enough, trimmed, distinct. */
export function distinctiveLines(patch: string): string[] {
  const lines = new Set<string>();
  for (const line of patch.split("\n")) {
    if (!line.startsWith("+") || line.startsWith("+++ ")) continue;
    const t = line.slice(1).trim();
    if (t.length >= MIN_LINE) lines.add(t);
  }
  return [...lines].sort((a, b) => b.length - a.length).slice(0, MAX_LINES);
}

/**
 * The leak probe: in a fresh container of the instance's image, before any patch, look for the gold
 * patch's distinctive added lines in the files git does not track (build output such as dist/ or *.egg-info,
 * caches, installed packages): an environment image built or reused from another commit, or a dependency
 * that bundles a later release of the project itself, hands the fix to whoever looks. Lines that already
 * occur in the tracked files at the base commit say nothing and are left out. It fails when at least two
 * such lines (or the only one) are found, and names the files.
 */
export async function leakProbe(
  task: { patch: string },
  o: { sandbox: Sandbox; image: string; timeoutMs?: number },
): Promise<CheckVerdict> {
  const verdict = (passed: boolean, reasons: string[]): CheckVerdict => ({
    check: "leak-probe",
    kind: "leak",
    passed,
    reasons,
  });
  const lines = distinctiveLines(task.patch);
  if (!lines.length) return verdict(true, ["not applicable: the fix adds no distinctive line"]);
  const c = await o.sandbox.start({ image: o.image, network: false, labels: { "sweu.role": "leak-probe" } });
  try {
    await c.writeFile("/tmp/sweu-lines", `${lines.join("\n")}\n`);
    // Drop lines the base commit already has; then search what git does not track (untracked and
    // ignored files, whole ignored folders) and the interpreter's installed packages for the rest.
    const untracked = "git ls-files -z --others --directory --no-empty-directory";
    const where = `{ ${untracked} --exclude-standard; ${untracked} --ignored --exclude-standard; for d in /usr/local/lib/python3*/site-packages; do [ -d "$d" ] && printf '%s\\0' "$d"; done; } 2>/dev/null`;
    const script = [
      "cd /testbed || exit 3",
      "git grep -hoF -f /tmp/sweu-lines HEAD -- . 2>/dev/null | sort -u > /tmp/sweu-known",
      "grep -vxF -f /tmp/sweu-known /tmp/sweu-lines > /tmp/sweu-new || true",
      '[ -s /tmp/sweu-new ] || { echo "SWEU-LEAK-NONE"; exit 0; }',
      "echo SWEU-LEAK-LINES $(wc -l < /tmp/sweu-new)",
      `${where} | xargs -0 -r grep -rlIF -f /tmp/sweu-new -- 2>/dev/null | head -20 | sed 's/^/SWEU-LEAK-FILE /'`,
      `${where} | xargs -0 -r grep -rohIF -f /tmp/sweu-new -- 2>/dev/null | sort -u | wc -l | sed 's/^/SWEU-LEAK-FOUND /'`,
    ].join("\n");
    const r = await c.exec(script, { timeoutMs: o.timeoutMs ?? 300_000 });
    if (r.timedOut) return verdict(true, ["inconclusive: the search timed out"]);
    if (r.output.includes("SWEU-LEAK-NONE"))
      return verdict(true, [
        "not applicable: every distinctive line of the fix is already in the base commit",
      ]);
    const total = Number(/SWEU-LEAK-LINES (\d+)/.exec(r.output)?.[1] ?? Number.NaN);
    const found = Number(/SWEU-LEAK-FOUND (\d+)/.exec(r.output)?.[1] ?? Number.NaN);
    if (!Number.isFinite(total) || !Number.isFinite(found))
      return verdict(false, [`the search could not run (exit ${r.exitCode}): ${r.output.slice(-500)}`]);
    const files = [...r.output.matchAll(/^SWEU-LEAK-FILE (.+)$/gm)].map((m) => m[1]!);
    if (found >= Math.min(2, total))
      return verdict(false, [
        `${found} of the fix's ${total} distinctive added lines are already in untracked files of the image: ${files.join(", ")}`,
      ]);
    return verdict(true, [
      found
        ? `1 of ${total} distinctive added lines found outside the tracked files (${files.join(", ")}): too little to call a leak`
        : `none of the fix's ${total} distinctive added lines is in the image outside the tracked files`,
    ]);
  } finally {
    await c.remove();
  }
}
