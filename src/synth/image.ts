/**
 * One thin image layer per bug, on the environment's instance image (src/builder/reuse.ts
 * instanceDockerfile is the model). How the image holds the buggy state without leaking the fix:
 *
 * - /testbed holds the bug: the mutated files are copied over the environment's commit.
 * - /testbed/.git is a new repository with one root commit of exactly that tree (the files git tracked at
 *   the environment's commit, as they now are), a fixed author and date, and no other object. The old
 *   history is gone from the container's filesystem: every earlier commit holds the correct function, so
 *   any history that reaches the environment's commit (`git show HEAD~1:file`, `git diff`) hands out the
 *   fix. Agents see a one-commit repository whose `git status` is clean; `git diff` shows only their edits.
 * - What the install left untracked stays (dependencies, build output) and stays ignored (the old
 *   .git/info/exclude is carried over, then settled again); Python bytecode caches in /testbed, compiled
 *   from the correct source, are removed, and so is an untracked dist/ (bundled copies of the source). The
 *   leak probe then looks for the fix's lines in whatever is not tracked (build output that copies the
 *   source, installed copies) and rejects the bug when they are there.
 *
 * The lower layers of the image still hold the environment's own checkout, as every thin instance layer's
 * image holds the layers it was built on; a container never sees them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { settleStep } from "../builder/dockerfile.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { FileChange } from "./patch.ts";

/** Author, committer and date of the one commit: fixed, so the same bug gives the same commit id. */
const IDENTITY = {
  GIT_AUTHOR_NAME: "swe-universe",
  GIT_AUTHOR_EMAIL: "sweu@localhost",
  GIT_COMMITTER_NAME: "swe-universe",
  GIT_COMMITTER_EMAIL: "sweu@localhost",
  GIT_AUTHOR_DATE: "2000-01-01T00:00:00+0000",
  GIT_COMMITTER_DATE: "2000-01-01T00:00:00+0000",
};

export const HEAD_MARK = "SWEU-SYNTH-HEAD";

/** Untracked folders of build output that hold copies of the source, removed from a bug's /testbed. */
const BUILD_COPIES = ["dist"];

/**
 * The shell that swaps the bug into `testbed` and gives it a one-commit history (the bug's files are in
 * `<scratch>/sweu-bug`). Paths are parameters so the same script can be tried on a host folder.
 */
export function swapScript(testbed = "/testbed", scratch = "/tmp"): string[] {
  const env = Object.entries(IDENTITY)
    .map(([k, v]) => `${k}='${v}'`)
    .join(" ");
  const t = `${scratch}/sweu`;
  return [
    `cd ${testbed}`,
    `git ls-files -z > ${t}-tracked`,
    // Build output that copies the source (a bundler's dist/ with its source maps) holds the correct code:
    // it goes when git tracks none of it. A suite that needs it fails with the bug and without, and the bug
    // is rejected; compiled objects (CMake's build/) carry no source lines and stay.
    ...BUILD_COPIES.map(
      (d) => `{ if [ -d ${d} ] && [ -z "$(git ls-files -- ${d} | head -1)" ]; then rm -rf ${d}; fi; }`,
    ),
    `{ cp .git/info/exclude ${t}-exclude 2>/dev/null || : > ${t}-exclude; }`,
    `cp -a ${t}-bug/. ${testbed}/`,
    `rm -rf ${t}-bug .git`,
    "git init -q -b main",
    "git config user.email sweu@localhost",
    "git config user.name swe-universe",
    // Tracked files the install removed stay out (git add refuses a path that is not there).
    `xargs -0 -r sh -c 'for f; do if [ -e "$f" ] || [ -L "$f" ]; then printf "%s\\0" "$f"; fi; done' _ < ${t}-tracked | xargs -0 -r git add -f --`,
    `${env} git commit -q --no-verify -m 'Initial commit'`,
    "mkdir -p .git/info",
    `cp ${t}-exclude .git/info/exclude`,
    `rm -f ${t}-tracked ${t}-exclude`,
    `{ find ${testbed} -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true; }`,
    `echo "${HEAD_MARK} $(git rev-parse HEAD)"`,
  ];
}

export function bugDockerfile(fromImage: string): string {
  return [
    `FROM ${fromImage}`,
    "COPY bug /tmp/sweu-bug",
    `RUN ${swapScript().join(" \\\n    && ")}`,
    "WORKDIR /testbed",
    settleStep(),
    "",
  ].join("\n");
}

export type BugImage =
  | { ok: true; image: string; dockerfile: string; head: string; buildMs: number }
  | { ok: false; detail: string; buildMs: number };

/** Build the bug's image under `tag`; its /testbed HEAD is read from the build log or the image. */
export async function buildBugImage(
  sandbox: Sandbox,
  x: { tag: string; fromImage: string; files: readonly FileChange[]; label: string; timeoutMs?: number },
): Promise<BugImage> {
  const ctx = mkdtempSync(join(tmpdir(), "sweu-synth-ctx-"));
  const dockerfile = bugDockerfile(x.fromImage);
  try {
    for (const f of x.files) {
      mkdirSync(dirname(join(ctx, "bug", f.path)), { recursive: true });
      writeFileSync(join(ctx, "bug", f.path), f.after);
    }
    writeFileSync(join(ctx, "Dockerfile"), dockerfile);
    const b = await sandbox.build({
      tag: x.tag,
      dockerfile,
      contextDir: ctx,
      timeoutMs: x.timeoutMs ?? 20 * 60_000,
      network: false,
      labels: { "sweu.synthetic": x.label },
    });
    if (!b.ok) return { ok: false, detail: b.log.slice(-3000), buildMs: b.durationMs };
    let head = new RegExp(`${HEAD_MARK} ([0-9a-f]{40})`).exec(b.log)?.[1];
    if (!head) {
      // The layer came from the engine's cache (nothing printed): ask the image.
      const c = await sandbox.start({ image: x.tag, network: false, labels: { "sweu.role": "synth-head" } });
      try {
        head = /([0-9a-f]{40})/.exec((await c.exec("git -C /testbed rev-parse HEAD")).output)?.[1];
      } finally {
        await c.remove();
      }
    }
    if (!head) return { ok: false, detail: "the image's /testbed has no HEAD", buildMs: b.durationMs };
    return { ok: true, image: x.tag, dockerfile, head, buildMs: b.durationMs };
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
