import { createHash } from "node:crypto";
import { shellValue, sq } from "../util/shell.ts";
import type { BuildPlan } from "./recipes/types.ts";

export interface DockerfileInput {
  baseImage: string;
  plan: BuildPlan;
  /** Context-relative directory holding extra CA certificates, when the site has any (see site.ts). */
  caDir?: string;
  /**
   * Dependency files the gold patch changes, at the resolved commit (context-relative directory and the
   * files in it): installed from, then put back to the base commit, so the resolved state finds its
   * dependencies offline while /testbed stays at the base commit.
   */
  depsOverlay?: { dir: string; modified: string[]; added: string[] };
}

function envLines(env: Record<string, string>): string[] {
  return Object.entries(env).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`);
}

/** Where the environment's variables are written for shells that do not inherit the image's ENV. */
export const PROFILE_SCRIPT = "/etc/profile.d/00-sweu-env.sh";

/**
 * The plan's environment for every way into the container (DESIGN §3). ENV covers `exec` without a shell,
 * `sh -c` and non-login bash; a login shell (`bash -lc`, as mini-swe-agent runs commands) resets PATH in
 * /etc/profile and then reads /etc/profile.d/, so the same variables go there too, and interactive shells
 * (SWE-ReX sessions) read /etc/bash.bashrc, which sources the same file.
 */
export function profileStep(env: Record<string, string>): string {
  const lines = Object.entries(env).map(([k, v]) => `export ${k}=${shellValue(v)}`);
  const file = ["# swe-universe: the environment's variables (also set as ENV in the image)", ...lines];
  return (
    `RUN printf '%s\\n' ${file.map(sq).join(" ")} > ${PROFILE_SCRIPT}` +
    ` && { grep -qs ${sq(PROFILE_SCRIPT)} /etc/bash.bashrc || printf '%s\\n' ${sq(`[ -r ${PROFILE_SCRIPT} ] && . ${PROFILE_SCRIPT}`)} >> /etc/bash.bashrc; }`
  );
}

/**
 * Leave `git status` clean in a fresh container without touching history: whatever the install left
 * untracked is ignored in .git/info/exclude (anchored, glob characters escaped), and tracked files the
 * install rewrote (a lockfile) are marked assume-unchanged. The files stay as the install left them; the
 * list is printed in the build log. The caches that running tests writes later (__pycache__ and the like)
 * are ignored for every repository of the image by the base image's system-wide exclude file
 * (src/sandbox/base-image.ts).
 */
export function settleStep(): string {
  const exclude = `git status --porcelain=v1 -z --untracked-files=normal | tr '\\0' '\\n' | sed -n 's/^?? //p' | sed -e 's/[][*?!#\\\\]/\\\\&/g' -e 's|^|/|' >> .git/info/exclude`;
  return [
    "RUN cd /testbed && git config --system --add safe.directory '*'",
    "if [ -d .git ]; then mkdir -p .git/info",
    `{ printf '%s\\n' '# swe-universe: what the install left, ignored locally'; ${exclude}; }`,
    "git ls-files -z -m | xargs -0 -r git update-index --assume-unchanged --",
    "{ git update-index -q --refresh >/dev/null || true; }",
    "{ git status --porcelain | head -20 || true; }; fi",
  ].join(" \\\n    && ");
}

/**
 * Render the environment's Dockerfile. Layers run from most shared to most specific (site CAs, system
 * packages, toolchain, then the repository and its dependencies), so tasks of one ecosystem share the
 * engine's layer cache for everything above the COPY.
 */
export function renderDockerfile({ baseImage, plan, caDir, depsOverlay }: DockerfileInput): string {
  const lines = [`FROM ${baseImage}`, 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]'];
  if (caDir) {
    lines.push(
      `COPY ${caDir}/ /usr/local/share/ca-certificates/`,
      "RUN update-ca-certificates >/dev/null 2>&1 || true",
      ...envLines({
        SSL_CERT_FILE: "/etc/ssl/certs/ca-certificates.crt",
        PIP_CERT: "/etc/ssl/certs/ca-certificates.crt",
        REQUESTS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt",
        NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/ca-certificates.crt",
        CARGO_HTTP_CAINFO: "/etc/ssl/certs/ca-certificates.crt",
        GIT_SSL_CAINFO: "/etc/ssl/certs/ca-certificates.crt",
      }),
    );
  }
  const apt = [...new Set(["git", "ca-certificates", "curl", "patch", "procps", ...plan.apt])].sort();
  lines.push(
    "ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8",
    `RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ${apt.join(" ")} >/dev/null && rm -rf /var/lib/apt/lists/*`,
  );
  lines.push(...(plan.dockerSteps ?? []));
  for (const step of plan.toolchain) lines.push(`RUN ${step}`);
  lines.push(...envLines(plan.env), profileStep(plan.env));
  lines.push("COPY testbed /testbed", "WORKDIR /testbed");
  if (depsOverlay) lines.push(`COPY ${depsOverlay.dir}/ /testbed/`);
  for (const step of plan.install) lines.push(`RUN ${step}`);
  if (depsOverlay) {
    const restore = [
      ...(depsOverlay.modified.length
        ? [`git checkout -q -- ${depsOverlay.modified.map(sq).join(" ")}`]
        : []),
      ...(depsOverlay.added.length ? [`rm -f ${depsOverlay.added.map(sq).join(" ")}`] : []),
    ];
    if (restore.length) lines.push(`RUN ${restore.join(" && ")}`);
  }
  // Dependencies installed; whatever install wrote stays untracked, the tree itself is the base commit.
  lines.push(settleStep());
  return lines.join("\n") + "\n";
}

/** Content key of an environment: equal keys mean the same image can serve. */
export function environmentKey(dockerfile: string, manifests: Record<string, string | undefined>): string {
  const h = createHash("sha256").update(dockerfile);
  for (const [k, v] of Object.entries(manifests).sort(([a], [b]) => a.localeCompare(b)))
    h.update(`\0${k}\0${v ?? ""}`);
  return h.digest("hex").slice(0, 16);
}

/** One instruction's text as engines print it: line continuations joined, runs of blanks as one space. */
export function normaliseInstruction(s: string): string {
  return s
    .replace(/\\\r?\n/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/**
 * The instruction a failed image build stopped at, as the engine printed it: BuildKit's `process
 * "/bin/bash -o pipefail -c X" did not complete successfully`, the classic builder's `The command
 * '/bin/sh -c X' returned a non-zero code`, else the last instruction started (podman's `STEP n/m: X`,
 * BuildKit's `#n [k/m] X`): the one that failed or that a timeout cut. RUN instructions come back as
 * `RUN X`. Undefined when the engine stopped before any (a base image it cannot find).
 */
export function failedInstruction(log: string): string | undefined {
  const shell = String.raw`(?:\/bin\/(?:ba)?sh (?:-o pipefail )?-c )`;
  const kit = [
    ...log.matchAll(new RegExp(String.raw`process "${shell}((?:[^"\\]|\\.)*)" did not complete`, "g")),
  ];
  if (kit.length) return `RUN ${kit.at(-1)![1]!.replace(/\\(.)/g, "$1")}`;
  const classic = [...log.matchAll(new RegExp(`The command '${shell}(.*)' returned a non-zero code`, "g"))];
  if (classic.length) return `RUN ${classic.at(-1)![1]}`;
  const started = [...log.matchAll(/^(?:STEP \d+\/\d+: |#\d+ \[[^\]\n]*?\d+\/\d+\] )(.+)$/gm)];
  return started.length ? normaliseInstruction(started.at(-1)![1]!) : undefined;
}

/** Whether an instruction (as failedInstruction returns it) is `RUN step` for one of the given steps. */
export function runsStep(instruction: string, steps: readonly string[]): boolean {
  const text = normaliseInstruction(instruction);
  return steps.some((s) => text === normaliseInstruction(`RUN ${s}`));
}
