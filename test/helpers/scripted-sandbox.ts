/**
 * A sandbox without an engine, for tests of scheduling only (how many containers at once, in what order,
 * what a stop ends): each container reads the staging script a state run's exec carries on stdin (src/
 * harness/run-state.ts stageScript) and answers that exec as the real one prints: the staging tag, then
 * what `tests(state)` says after `ms` milliseconds between the run's nonce markers, then the `ran` line. Removing a container
 * ends its running exec (exit 137), as the engine does. Everything real is tested with real containers
 * elsewhere; this stands in only where the subject is the timing of many runs.
 */
import { MARK } from "../../src/harness/output.ts";
import type { OutputParser } from "../../src/harness/run-state.ts";
import type { Container, ContainerSpec, ExecOutput, Sandbox } from "../../src/sandbox/sandbox.ts";

export interface ScriptedRun {
  /** "buggy" | "resolved" | "comment" | "no-tests" (what the staged files say the run is). */
  kind: string;
  cpus?: number;
  /** Containers live when the tests started. */
  live: number;
}

export interface Script {
  /** TAP-like lines "ok NAME" / "not ok NAME" and the exit code for one test run. */
  tests(run: ScriptedRun): { exit: number; lines: string[] };
  ms?: number;
}

/** Reads the "ok NAME" / "not ok NAME" lines the scripted sandbox prints. */
export const scriptedParser: OutputParser = (output, nonce) => {
  const s = output.indexOf(MARK.testStart(nonce));
  const e = output.indexOf(MARK.testEnd(nonce));
  if (s < 0 || e < 0) return { tests: [], parsed: false };
  const tests = output
    .slice(s, e)
    .split("\n")
    .map((l) => /^(ok|not ok) (.+)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ name: m[2]!, status: m[1] === "ok" ? ("PASSED" as const) : ("FAILED" as const) }));
  return { tests, parsed: tests.length > 0 };
};

function decoded(script: string, path: string): string | undefined {
  const m = new RegExp(`base64 -d > '${path}' <<'([^']+)'[^\\n]*\\n([\\s\\S]*?)\\n\\1\\n`).exec(script);
  return m ? Buffer.from(m[2]!.replace(/\n/g, ""), "base64").toString() : undefined;
}

export class ScriptedSandbox implements Sandbox {
  readonly engine = "scripted";
  live = 0;
  maxLive = 0;
  started = 0;
  /** Test runs in the order they started. */
  readonly runs: ScriptedRun[] = [];
  /** Live containers, by id, with their limits (the load probe's quota). */
  readonly liveSpecs = new Map<string, ContainerSpec>();
  private readonly script: Script;

  constructor(script: Script) {
    this.script = script;
  }

  async build() {
    return { ok: true, log: "", durationMs: 0, timedOut: false };
  }
  async imageExists() {
    return true;
  }
  async ping() {
    return { ok: true };
  }
  async pull() {
    return { ok: true };
  }
  async push() {
    return { ok: true };
  }
  async imageSize() {
    return 0;
  }
  async removeImage() {}
  async cleanup() {}
  async reapOrphans() {
    return [];
  }

  async start(spec: ContainerSpec): Promise<Container> {
    const id = `c${++this.started}`;
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    this.liveSpecs.set(id, spec);
    const files = new Map<string, string>();
    let removed = false;
    let kill: (() => void) | undefined;
    const sb = this;
    const wait = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(true), ms);
        kill = () => {
          clearTimeout(t);
          resolve(false);
        };
      });
    const tests = async (): Promise<ExecOutput> => {
      const patch = files.get("patch")!;
      const kind = files.get("preTest") || (!patch ? "buggy" : patch.includes("# ") ? "comment" : "resolved");
      const run = { kind, cpus: spec.limits?.cpus, live: sb.live };
      sb.runs.push(run);
      const r = sb.script.tests(run);
      const done = await wait(sb.script.ms ?? 20);
      if (!done) return { exitCode: 137, output: "", timedOut: false, durationMs: 1 };
      const nonce = files.get("nonce")!;
      const output = [MARK.testStart(nonce), ...r.lines, MARK.testEnd(nonce), ""].join("\n");
      return { exitCode: r.exit, output, timedOut: false, durationMs: sb.script.ms ?? 20 };
    };
    return {
      id,
      async exec(cmd, o): Promise<ExecOutput> {
        if (removed) throw new Error(`container ${id} was removed`);
        const text = o?.input?.toString() ?? "";
        if (text.includes("SWEU-STAGED-")) {
          // A state run: the staging script on stdin, then the tests in the same exec.
          files.set("nonce", decoded(text, "/tmp/sweu/nonce")!);
          files.set("patch", decoded(text, "/tmp/sweu/patch.diff") ?? "");
          // A probe's shell (the no-tests probe's) is the one step of the staging script that is not an apply step.
          const blocks = text.split("( cd /testbed && {").length - 1;
          const applies = text.split("} ) || {").length - 1;
          files.set("preTest", blocks > applies ? "no-tests" : "");
          const tag = /echo "(SWEU-STAGED-\S+) applied"/.exec(text)![1]!;
          const t = await tests();
          // A run ended by its container's removal never prints the closing `ran` line.
          const ran = t.output ? `\n${tag} ran 1.000 ${1 + t.durationMs / 1000}\n` : "";
          const output = `\n${tag} applied\n${t.output}${ran}`;
          return { ...t, output };
        }
        if (cmd.includes("SWEU-LEAK-NONE")) {
          // The leak probe's search: one line of the fix looked for, none found.
          const done = await wait(sb.script.ms ?? 20);
          const output = done ? "SWEU-LEAK-LINES 1\nSWEU-LEAK-FOUND 0\nSWEU-LEAK-DONE\n" : "";
          return { exitCode: done ? 0 : 137, output, timedOut: false, durationMs: 1 };
        }
        return { exitCode: 0, output: "", timedOut: false, durationMs: 1 };
      },
      async writeFile(path, content) {
        files.set(path, content.toString());
      },
      async readFile(path) {
        return Buffer.from(files.get(path) ?? "");
      },
      async copyIn() {},
      async commit() {},
      async remove() {
        if (removed) return;
        removed = true;
        kill?.();
        sb.live--;
        sb.liveSpecs.delete(id);
      },
    };
  }
}
