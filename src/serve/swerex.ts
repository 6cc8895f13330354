/**
 * SWE-ReX's runtime API (the routes its `swerex-remote` server answers and its `RemoteRuntime` client
 * calls) on every session, under /v1/sessions/<id>/swerex: point `RemoteRuntime(host=<that URL>,
 * auth_token=<token>)` at it and SWE-agent-style code drives the session unchanged. Named bash sessions
 * keep their working directory and exported variables from one command to the next (state kept in the
 * container, not a live shell: functions and aliases do not carry over); exceptions SWE-ReX's client
 * re-raises come back as its status 511 with `swerexception`. Mapping in docs/serve.md.
 */
import { z } from "zod";
import { q } from "../util/shell.ts";
import { execIn } from "./exec.ts";
import * as ops from "./ops.ts";
import { workspacePath } from "./paths.ts";
import { Answer, type Ctx, type Route } from "./route.ts";

const BASE = "/v1/sessions/:id/swerex";

/** SWE-ReX's exception transfer: its client imports `class_path` and raises it with `message`. */
function rexception(cls: string, message: string): Answer {
  return new Answer(511, {
    swerexception: { message, class_path: `swerex.exceptions.${cls}`, traceback: "", extra_info: {} },
  });
}

const CreateSession = z.looseObject({
  session: z.string().default("default"),
  startup_source: z.array(z.string()).default([]),
  session_type: z.literal("bash").default("bash"),
});
const BashAction = z.looseObject({
  command: z.string().default(""),
  session: z.string().default("default"),
  timeout: z.number().nullable().optional(),
  check: z.enum(["silent", "raise", "ignore"]).default("raise"),
  error_msg: z.string().default(""),
  is_interactive_command: z.boolean().default(false),
  action_type: z.enum(["bash", "bash_interrupt"]).default("bash"),
});
const CloseSession = z.looseObject({ session: z.string().default("default") });
const Command = z.looseObject({
  command: z.union([z.string(), z.array(z.string())]),
  timeout: z.number().nullable().optional(),
  check: z.boolean().default(false),
  error_msg: z.string().default(""),
  env: z.record(z.string(), z.string()).nullable().optional(),
  cwd: z.string().nullable().optional(),
});
const ReadFile = z.looseObject({ path: z.string().min(1) });
const WriteFile = z.looseObject({ path: z.string().min(1), content: z.string() });
const Empty = z.looseObject({});

const stateDir = (name: string) => `/tmp/sweu-shell/${name.replace(/[^A-Za-z0-9_.-]/g, "_")}`;

function timeoutMs(c: Ctx, t: number | null | undefined): number {
  const max = c.m.config.limits.execTimeoutS;
  return Math.round(Math.min(t ?? max, max) * 1000);
}

async function createSession(c: Ctx): Promise<unknown> {
  const r = CreateSession.parse(c.req.body ?? {});
  return c.m.run(c.id, async (s) => {
    if (s.shells.has(r.session))
      return rexception("SessionExistsError", `session ${r.session} already exists`);
    const dir = stateDir(r.session);
    s.shells.set(r.session, dir);
    await s.container.exec(`rm -rf ${q(dir)}`, { timeoutMs: 60_000 });
    const out = await execIn(s.container, {
      command: r.startup_source.map((f) => `. ${q(f)}`).join("\n") || "true",
      timeoutMs: 60_000,
      capBytes: c.m.config.outputCapBytes,
      stateDir: dir,
    });
    return { output: out.output, session_type: "bash" };
  });
}

async function runInSession(c: Ctx): Promise<unknown> {
  const a = BashAction.parse(c.req.body ?? {});
  if (a.action_type === "bash_interrupt")
    return { output: "", exit_code: 0, failure_reason: "", expect_string: "", session_type: "bash" };
  if (a.is_interactive_command)
    return rexception("SwerexException", "interactive commands are not supported by swe-universe serve");
  return c.m.run(c.id, async (s) => {
    const dir = s.shells.get(a.session);
    if (!dir) return rexception("SessionDoesNotExistError", `session ${a.session} does not exist`);
    const r = await execIn(s.container, {
      command: a.command,
      timeoutMs: timeoutMs(c, a.timeout),
      capBytes: c.m.config.outputCapBytes,
      stateDir: dir,
    });
    if (r.timed_out)
      return rexception(
        "CommandTimeoutError",
        `timeout (${timeoutMs(c, a.timeout) / 1000}s) while running command ${a.command}`,
      );
    if (a.check === "raise" && r.exit_code !== 0)
      return rexception(
        "NonZeroExitCodeError",
        `${a.error_msg ? `${a.error_msg}: ` : ""}Command ${JSON.stringify(a.command)} failed with exit code ${r.exit_code}. Here is the output:\n${r.output}`,
      );
    const exit_code = a.check === "ignore" ? null : r.exit_code;
    return { output: r.output, exit_code, failure_reason: "", expect_string: "", session_type: "bash" };
  });
}

async function closeSession(c: Ctx): Promise<unknown> {
  const r = CloseSession.parse(c.req.body ?? {});
  return c.m.run(c.id, async (s) => {
    if (!s.shells.delete(r.session))
      return rexception("SessionDoesNotExistError", `session ${r.session} does not exist`);
    return { session_type: "bash" };
  });
}

async function execute(c: Ctx): Promise<unknown> {
  const r = Command.parse(c.req.body);
  const command = Array.isArray(r.command) ? r.command.map(q).join(" ") : r.command;
  const out = await ops.exec(c.m, c.id, {
    command,
    timeout_s: timeoutMs(c, r.timeout) / 1000,
    ...(r.cwd ? { cwd: r.cwd } : {}),
    ...(r.env ? { env: r.env } : {}),
  });
  if (out.timed_out) return rexception("CommandTimeoutError", `timeout while running command ${command}`);
  if (r.check && out.exit_code !== 0)
    return rexception(
      "NonZeroExitCodeError",
      `${r.error_msg || "Command failed"}: exit code ${out.exit_code}\n${out.output}`,
    );
  // Our commands interleave stdout and stderr (as the terminal showed them): all of it is stdout here.
  return { stdout: out.output, stderr: "", exit_code: out.exit_code };
}

export function swerexRoutes(): Route[] {
  const post = (name: string, body: z.ZodType, summary: string, handler: Route["handler"]): Route => ({
    method: "POST",
    url: `${BASE}/${name}`,
    summary: `SWE-ReX ${name}: ${summary}`,
    body,
    response: Empty,
    handler,
  });
  return [
    {
      method: "GET",
      url: `${BASE}/is_alive`,
      summary: "SWE-ReX is_alive",
      response: Empty,
      handler: async (c) => {
        c.m.get(c.id);
        return { is_alive: true, message: "" };
      },
    },
    post("create_session", CreateSession, "a named bash session", createSession),
    post(
      "run_in_session",
      BashAction,
      "a command in a named bash session (cwd and exports kept)",
      runInSession,
    ),
    post("close_session", CloseSession, "forget a named bash session", closeSession),
    post("execute", Command, "a command on its own", execute),
    post("read_file", ReadFile, "a file's text", async (c) => {
      const r = ReadFile.parse(c.req.body);
      return { content: (await ops.readFile(c.m, c.id, workspacePath(r.path), "utf8")).content };
    }),
    post("write_file", WriteFile, "write a file", async (c) => {
      const r = WriteFile.parse(c.req.body);
      await ops.writeFile(c.m, c.id, { path: r.path, content: r.content });
      return {};
    }),
    // The runtime's close: forget the bash sessions; the container stays for submit and DELETE.
    post("close", Empty, "forget every bash session (the session itself stays open)", async (c) =>
      c.m.run(c.id, async (s) => {
        s.shells.clear();
        return {};
      }),
    ),
  ];
}
