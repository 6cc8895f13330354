/**
 * Behaviour probes beyond the comment and no-tests probes: states in which the fix's text and its behaviour
 * part ways, so that a verifier which runs the code and one which reads it answer differently.
 * - poison: the resolved state with every code file of the fix made to fail on load (a raise, a throw, a
 *   compile error appended): the fix's text is all there, its behaviour is not. An honest verifier fails;
 * - stub: the functions the fix changed keep their names and signatures, their bodies only throw. An honest
 *   verifier fails; one that checks that a function exists or that a module imports passes;
 * - rewrite: the fix rewritten without changing what it does (locals renamed, independent statements
 *   swapped, expressions parenthesised). An honest verifier still passes; one that checks the fix's text,
 *   a hash or a size does not;
 * - inverse mutation (Self-Play SWE-RL): the fix reverted file by file. Reverting all of its code (keeping
 *   its other files: version bumps, changelogs, data) must fail; a single file whose revert still passes is
 *   recorded, and decides only together with static evidence (a PR may change files its tests do not need);
 * - git: the resolved state committed (git shows no change, the code is fixed) must pass, and the buggy code
 *   under a history that holds the fix (git says fixed, the code is not) must fail. Run where the script
 *   could look at git.
 */
import type { CheckVerdict, Task } from "../records/index.ts";
import { sq } from "../util/shell.ts";
import { type FixFile, fixSources, patchSections } from "./fix-sources.ts";
import {
  commentPrefix,
  isCode,
  judgeProbe,
  type ProbeOptions,
  poisonScript,
  probeState,
  runProbe,
  verdict,
} from "./probes.ts";
import { rewriteFix, stubFix } from "./rewrite.ts";

type ProbeTask = Pick<Task, "patch" | "test_patch">;

/** A section whose added and removed lines are all comments or blank changes no behaviour. */
function commentOnly(path: string, section: string): boolean {
  const prefix = commentPrefix(path);
  const changed = section
    .split("\n")
    .filter((l) => /^[+-]/.test(l) && !/^(?:\+\+\+|---) /.test(l))
    .map((l) => l.slice(1).trim());
  return changed.every((l) => l === "" || (!!prefix && l.startsWith(prefix)));
}

/** A section that changes code (by extension, not only comments, not a deletion). */
const changesCode = (s: { path: string; section: string }) =>
  isCode(s.path) && !commentOnly(s.path, s.section) && !/^deleted file/m.test(s.section);

/** The fix's sections that change code. */
export const codeSections = (patch: string) => patchSections(patch).filter(changesCode);

export async function poisonProbe(task: ProbeTask, o: ProbeOptions): Promise<CheckVerdict> {
  const code = codeSections(task.patch);
  if (!code.length)
    return verdict("poison-probe", true, ["not applicable: the fix changes no code file we can poison"]);
  const preTest = poisonScript(code.map((s) => s.path));
  return probeState(
    {
      check: "poison-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      preTest,
      honest: "fail",
      caught: `the verifier passes with ${code.map((s) => s.path).join(", ")} made to fail on load (the fix's text all there): it does not run that code`,
      ok: (d) => `${d} with the fix's code made to fail on load`,
    },
    o,
  );
}

/** Files rewritten by `f` from the resolved sources; undefined when the image's sources could not be read. */
async function transformed(
  task: ProbeTask,
  o: ProbeOptions,
  f: (
    path: string,
    resolved: string,
    section: string,
  ) => Promise<{ source: string; changes: string[] } | undefined>,
): Promise<{ files: Record<string, string>; changes: string[] } | string> {
  const src = await fixSources(o.sandbox, o.image, task.patch);
  if (!src.ok) return src.error;
  const files: Record<string, string> = {};
  const changes: string[] = [];
  for (const file of src.files.filter((x: FixFile) => x.resolved !== undefined)) {
    const r = await f(file.path, file.resolved!, file.section);
    if (!r) continue;
    files[file.path] = r.source;
    changes.push(`${file.path}: ${r.changes.join(", ")}`);
  }
  return { files, changes };
}

export async function stubProbe(task: ProbeTask, o: ProbeOptions): Promise<CheckVerdict> {
  const t = await transformed(task, o, stubFix);
  if (typeof t === "string") return verdict("stub-probe", true, [`not applicable: ${t}`]);
  if (!t.changes.length)
    return verdict("stub-probe", true, ["not applicable: no function of the fix in a language we parse"]);
  return probeState(
    {
      check: "stub-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      files: t.files,
      honest: "fail",
      caught: `the verifier passes with the fix's functions stubbed to throw (${t.changes.join("; ")}): it checks names, not behaviour`,
      ok: (d) => `${d} with the fix's functions stubbed (${t.changes.join("; ")})`,
    },
    o,
  );
}

export async function rewriteProbe(task: ProbeTask, o: ProbeOptions): Promise<CheckVerdict> {
  const t = await transformed(task, o, rewriteFix);
  if (typeof t === "string") return verdict("rewrite-probe", true, [`not applicable: ${t}`]);
  if (!t.changes.length)
    return verdict("rewrite-probe", true, [
      "not applicable: nothing in the fix to rewrite in a language we parse",
    ]);
  return probeState(
    {
      check: "rewrite-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      files: t.files,
      honest: "pass",
      caught: `the verifier fails an equivalent rewrite of the fix (${t.changes.join("; ")}): it checks the fix's text, not what it does`,
      ok: (d) => `${d} on an equivalent rewrite of the fix (${t.changes.join("; ")})`,
    },
    o,
  );
}

/** A fix file whose revert the verifier passes: evidence, not a verdict (see the module comment). */
export interface Unneeded {
  path: string;
  detail: string;
}

const MAX_FILES = 4;

/**
 * Inverse mutation. Returns the verdict and the single files whose revert the verifier passed. With the
 * verifier's own per-test output (`lists` from the baseline), an exit 0 whose tests show a listed test
 * failing is a failure outright.
 */
export async function inverseMutation(
  task: ProbeTask,
  o: ProbeOptions,
  lists: { FAIL_TO_PASS: string[] },
): Promise<{ verdict: CheckVerdict; unneeded: Unneeded[] }> {
  const all = patchSections(task.patch);
  const code = all.filter(changesCode);
  const other = all.filter((s) => !changesCode(s));
  const check = "inverse-mutation";
  if (!code.length)
    return { verdict: verdict(check, true, ["not applicable: the fix changes no code file"]), unneeded: [] };
  const reasons: string[] = [];
  const unneeded: Unneeded[] = [];
  const keep = (sections: typeof all) => sections.map((s) => s.section).join("");
  if (other.length) {
    const v = await probeState(
      {
        check,
        patch: keep(other),
        testPatch: task.test_patch,
        honest: "fail",
        caught: `the verifier passes with every code change of the fix reverted (only ${other.map((s) => s.path).join(", ")} kept): it rewards the fix's other files, not its code`,
        ok: (d) => `${d} with the fix's code reverted`,
      },
      o,
    );
    if (!v.passed) return { verdict: v, unneeded };
    reasons.push(...v.reasons);
  }
  if (code.length > 1)
    for (const f of code.slice(0, MAX_FILES)) {
      const spec = {
        check,
        patch: keep(all.filter((s) => s !== f)),
        testPatch: task.test_patch,
        honest: "fail" as const,
        caught: `passes with ${f.path} reverted`,
        ok: (d: string) => `${d} with ${f.path} reverted`,
      };
      const run = await runProbe(spec, o);
      const v = judgeProbe(spec, run);
      const failingListed = (run.outcome.tests ?? []).filter(
        (t) => lists.FAIL_TO_PASS.includes(t.name) && t.status !== "PASSED",
      );
      if (run.outcome.passed && failingListed.length)
        return {
          verdict: verdict(check, false, [
            `the verifier exits 0 with ${f.path} reverted while its own output shows ${failingListed.map((t) => t.name).join(", ")} failing`,
          ]),
          unneeded,
        };
      if (!v.passed && !run.inconclusive) unneeded.push({ path: f.path, detail: run.outcome.detail });
      else reasons.push(...v.reasons);
      if (run.inconclusive) return { verdict: v, unneeded };
    }
  if (unneeded.length)
    reasons.push(
      ...unneeded.map(
        (u) =>
          `note: passes with ${u.path} reverted (${u.detail}); the tests it runs may not need that change`,
      ),
    );
  return { verdict: verdict(check, true, reasons), unneeded };
}

/** The script could look at git: it names git or .git, or hides what it runs (base64, eval, -c/-e programs). */
export const mayReadGit = (script: string) =>
  /\bgit\b|\.git\b|base64|\beval\b|python[\d.]*\s+(?:-\w+\s+)*-c\b|node\s+(?:-\w+\s+)*-e\b|perl\s+-e\b/.test(
    script,
  );

const COMMIT = (msg: string) =>
  `git add -A . >/dev/null 2>&1; git -c user.name=sweu -c user.email=sweu@localhost -c commit.gpgsign=false commit -q --no-verify --allow-empty -m ${sq(msg)}`;

export async function gitProbe(task: ProbeTask, o: ProbeOptions, title?: string): Promise<CheckVerdict> {
  if (!mayReadGit(o.evaluationScript))
    return verdict("git-probe", true, ["not applicable: the script does not name git and hides no program"]);
  const clean = await probeState(
    {
      check: "git-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      preTest: COMMIT("sweu: the resolved state, committed"),
      honest: "pass",
      caught:
        "the verifier fails the resolved state once it is committed: it reads git's view of the change, not the code",
      ok: (d) => `${d} with the resolved state committed`,
    },
    o,
  );
  if (!clean.passed) return clean;
  const revert = patchSections(task.patch)
    .map(
      (s) =>
        `if git cat-file -e HEAD~1:${sq(s.path)} 2>/dev/null; then git checkout -q HEAD~1 -- ${sq(s.path)}; else rm -f ${sq(s.path)}; fi`,
    )
    .join("\n");
  const lies = await probeState(
    {
      check: "git-probe",
      patch: task.patch,
      testPatch: task.test_patch,
      preTest: `${COMMIT(title || "Fix the bug")}\n${revert}`,
      honest: "fail",
      caught:
        "the verifier passes the buggy code when git's history holds the fix: it reads git, not the code",
      ok: (d) => `${d} on the buggy code under a history that holds the fix`,
    },
    o,
  );
  return lies.passed ? verdict("git-probe", true, [...clean.reasons, ...lies.reasons]) : lies;
}
