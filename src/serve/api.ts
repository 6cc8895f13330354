/**
 * The rollout service's wire format, once: zod schemas give the TypeScript types (server and client) and,
 * through `jsonSchema`, the JSON schemas Fastify validates requests with and the OpenAPI description
 * publishes. Field names are snake_case, as in the dataset and SWE-bench's reports.
 */
import { z } from "zod";

/** A relative path is taken under /testbed; an absolute one must lie inside it (paths.ts). */
const Path = z.string().min(1).max(4096).describe("file path, relative to /testbed or absolute inside it");

export const StartRequest = z
  .object({
    instance_id: z.string().min(1).max(512),
    network: z
      .boolean()
      .optional()
      .describe("network inside the container (refused unless the server allows it)"),
    memory: z
      .string()
      .regex(/^\d+[kmgKMG]?$/)
      .optional()
      .describe('memory limit, e.g. "2g"; at most the server\'s'),
    pids: z.number().int().min(16).optional().describe("process limit; at most the server's"),
    lifetime_s: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("the session is closed this long after its start"),
    idle_timeout_s: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("closed when no request came for this long"),
  })
  .strict();
export type StartRequest = z.infer<typeof StartRequest>;

export const SessionInfo = z.object({
  session_id: z.string(),
  instance_id: z.string(),
  node: z.string().describe("the serve process holding the session's container"),
  workdir: z.string(),
  problem_statement: z.string(),
  /** Whether the container came from the warm pool. */
  warm: z.boolean(),
  start_ms: z.number(),
  created_at: z.string(),
  expires_at: z.string(),
  idle_timeout_s: z.number(),
  network: z.boolean(),
  limits: z.object({ memory: z.string().optional(), pids: z.number().optional() }),
});
export type SessionInfo = z.infer<typeof SessionInfo>;

export const ExecRequest = z
  .object({
    command: z.string().min(1).describe("a bash command line, run as `bash -c` in a login environment"),
    timeout_s: z
      .number()
      .positive()
      .optional()
      .describe("killed after this long (default and maximum: the server's)"),
    cwd: Path.optional(),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).optional(),
  })
  .strict();
export type ExecRequest = z.infer<typeof ExecRequest>;

export const ExecResult = z.object({
  exit_code: z.number(),
  /** stdout and stderr interleaved; the first and last parts when over the cap. */
  output: z.string(),
  truncated: z.boolean(),
  timed_out: z.boolean(),
  /** The container's memory limit killed a process during this command. */
  oom_killed: z.boolean(),
  duration_ms: z.number(),
});
export type ExecResult = z.infer<typeof ExecResult>;

export const Encoding = z.enum(["utf8", "base64"]);

export const ReadFileQuery = z.object({ path: Path, encoding: Encoding.optional() }).strict();

export const FileContent = z.object({
  path: z.string(),
  content: z.string(),
  encoding: Encoding,
  size: z.number(),
});
export type FileContent = z.infer<typeof FileContent>;

export const WriteFileRequest = z
  .object({
    path: Path,
    content: z.string(),
    encoding: Encoding.optional(),
    mode: z.number().int().min(0).max(0o7777).optional().describe("file mode, e.g. 493 (0755)"),
  })
  .strict();
export type WriteFileRequest = z.infer<typeof WriteFileRequest>;

export const WriteFileResult = z.object({ path: z.string(), size: z.number() });

export const DiffResult = z.object({ diff: z.string(), files: z.array(z.string()) });
export type DiffResult = z.infer<typeof DiffResult>;

export const SubmitRequest = z
  .object({
    patch: z
      .string()
      .optional()
      .describe("a unified diff against the base commit; absent = the container's own diff"),
  })
  .strict();
export type SubmitRequest = z.infer<typeof SubmitRequest>;

const SuccessFailure = z.object({ success: z.array(z.string()), failure: z.array(z.string()) });

/** SWE-bench's per-instance report (evaluate/report.ts InstanceReport), as `evaluate` writes it. */
export const Report = z.object({
  patch_is_None: z.boolean(),
  patch_exists: z.boolean(),
  patch_successfully_applied: z.boolean(),
  resolved: z.boolean(),
  tests_status: z.object({
    FAIL_TO_PASS: SuccessFailure,
    PASS_TO_PASS: SuccessFailure,
    FAIL_TO_FAIL: SuccessFailure,
    PASS_TO_FAIL: SuccessFailure,
  }),
  sweu: z.looseObject({ status: z.string(), reasons: z.array(z.string()) }),
});

export const SubmitResult = z.object({
  reward: z.union([z.literal(0), z.literal(1)]),
  resolved: z.boolean(),
  patch_source: z.enum(["request", "container"]),
  patch: z.string(),
  report: Report,
  /** The tail of the grading run's output (apply log and evaluation.sh). */
  test_output: z.string(),
  grade_ms: z.number(),
});
export type SubmitResult = z.infer<typeof SubmitResult>;

export const TaskSummary = z.object({
  instance_id: z.string(),
  repo: z.string(),
  language: z.string(),
  image_name: z.string(),
  created_at: z.string(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

/** What an agent may see of a task: never the gold patch, the test patch or the verifier. */
export const TaskDetail = TaskSummary.extend({
  base_commit: z.string(),
  problem_statement: z.string(),
  hints_text: z.string(),
  version: z.string(),
});
export type TaskDetail = z.infer<typeof TaskDetail>;

export const TaskList = z.object({ total: z.number(), tasks: z.array(TaskSummary) });

export const TaskQuery = z
  .object({
    offset: z.string().regex(/^\d+$/).optional(),
    limit: z.string().regex(/^\d+$/).optional(),
    repo: z.string().optional(),
    language: z.string().optional(),
  })
  .strict();

export const NodeInfo = z.object({
  node: z.string(),
  url: z.string(),
  pid: z.number(),
  sessions: z.number(),
  max_sessions: z.number(),
  started_at: z.string(),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

export const Health = NodeInfo.extend({ status: z.literal("ok"), warm: z.number(), cluster: z.boolean() });

/** Every error: a stable code, a sentence for people, the HTTP status. */
export const ErrorBody = z.object({ error: z.string(), message: z.string(), statusCode: z.number() });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const SessionParams = z.object({ id: z.string().min(1).max(200) }).strict();

/** A zod schema as a draft-07 JSON schema, the dialect Fastify's validator speaks. */
export function jsonSchema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(s, {
    target: "draft-7",
    io: "input",
    unrepresentable: "any",
  });
  return rest as Record<string, unknown>;
}
