/**
 * One command in a session's container, with its output capped inside the container (a command that
 * prints gigabytes costs the service nothing): the first half of the cap streams as it comes, the last
 * half is kept by `tail` and sent base64-encoded, so the byte count says exactly whether anything was cut.
 * A trailer after a per-call separator carries the exit code and the cgroup's OOM-kill counter before and
 * after the command, so a command killed by the memory limit is reported as such.
 */
import { randomBytes } from "node:crypto";
import type { Container } from "../sandbox/sandbox.ts";
import { sq } from "../util/shell.ts";
import type { ExecResult } from "./api.ts";

/** The OOM-kill counter of the container's memory cgroup (v1 and v2), or "-" where it cannot be read. */
const OOM_COUNTER =
  "__sweu_oom() { local n; n=$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/memory/memory.oom_control /sys/fs/cgroup/memory.events 2>/dev/null | head -n1); echo \"${n:--}\"; }";

export interface ExecSpec {
  command: string;
  timeoutMs: number;
  /** Total bytes of output kept (half from the start, half from the end). */
  capBytes: number;
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Keep `cd` and exported variables in this folder from one call to the next (SWE-ReX's bash
   * sessions); unset = every command starts afresh.
   */
  stateDir?: string;
}

function capped(half: number): string {
  return `{ head -c ${half}; printf '%s' "$__sep"; tail -c ${half + 1} | base64 -w0; }`;
}

/**
 * The bash script for one command. The command runs in a child bash whose output goes through the cap;
 * a stateful one loads its shell's last cwd and exports first and saves them after (inside that child,
 * so a pipeline, not a process substitution, carries the output: nothing is left to wait for).
 */
export function execScript(spec: ExecSpec, sep: string): string {
  const half = Math.max(1, Math.floor(spec.capBytes / 2));
  let child = spec.command;
  const lines = [`__sep=${sq(sep)}`, OOM_COUNTER, "__o=$(__sweu_oom)"];
  if (spec.stateDir) {
    const d = sq(spec.stateDir);
    lines.push(`mkdir -p ${d}`);
    child = [
      `cd "$(cat ${d}/cwd 2>/dev/null || echo ${sq(spec.cwd ?? "/testbed")})" 2>/dev/null || cd /testbed`,
      `[ -f ${d}/env ] && . ${d}/env >/dev/null 2>&1`,
      `eval ${sq(spec.command)}`,
      // Not the exec's own marker (the next command has its own, by which a timeout finds its processes).
      `__rc=$?; pwd > ${d}/cwd; export -p | grep -Ev '^declare -x (SWEU_EXEC|SHLVL|PWD|OLDPWD)=' > ${d}/env; exit $__rc`,
    ].join("\n");
  } else if (spec.cwd) lines.push(`cd ${sq(spec.cwd)} || exit 2`);
  lines.push(
    `bash -c ${sq(child)} </dev/null 2>&1 | ${capped(half)}`,
    "__rc=${PIPESTATUS[0]}",
    `printf '%s%s %s %s\\n' "$__sep" "$__rc" "$__o" "$(__sweu_oom)"`,
    "exit $__rc",
  );
  return lines.join("\n");
}

const note = (half: number) =>
  `\n[... output truncated by swe-universe serve: the first and last ${half} bytes are kept ...]\n`;

/** Read what execScript printed back into a result; `raw` is the container exec's own. */
export function parseExec(
  raw: { exitCode: number; output: string; timedOut: boolean; durationMs: number },
  sep: string,
  capBytes: number,
): ExecResult {
  const half = Math.max(1, Math.floor(capBytes / 2));
  const out = raw.output;
  const base = { timed_out: raw.timedOut, duration_ms: raw.durationMs };
  const at = out.lastIndexOf(sep);
  const trailer = at >= 0 ? /^(\d+) (\S+) (\S+)\n?$/.exec(out.slice(at + sep.length)) : null;
  const first = out.indexOf(sep);
  if (!trailer || first === at) {
    // Cut short (timeout, `exit` in a stateful shell, the engine failing): what streamed is all there is.
    const head = first >= 0 ? out.slice(0, first) : out;
    return { ...base, exit_code: raw.exitCode, output: head, truncated: false, oom_killed: false };
  }
  const head = out.slice(0, first);
  let tail = Buffer.from(out.slice(first + sep.length, at), "base64");
  const truncated = tail.length > half;
  if (truncated) tail = tail.subarray(1);
  const [, rc, before, after] = trailer;
  const oom = before !== "-" && after !== "-" && Number(after) > Number(before);
  return {
    ...base,
    exit_code: Number(rc),
    output: truncated ? `${head}${note(half)}${tail.toString()}` : head + tail.toString(),
    truncated,
    oom_killed: oom,
  };
}

/** Run one command in a container: capped output, exit code, timeout and OOM kill reported. */
export async function execIn(container: Container, spec: ExecSpec): Promise<ExecResult> {
  const sep = `\u0001SWEU-${randomBytes(8).toString("hex")}\u0001`;
  const raw = await container.exec(execScript(spec, sep), {
    timeoutMs: spec.timeoutMs,
    ...(spec.env ? { env: spec.env } : {}),
  });
  return parseExec(raw, sep, spec.capBytes);
}
