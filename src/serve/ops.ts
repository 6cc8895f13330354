/** What a client does in a session: commands, files, the diff, a submission. Each runs through SessionManager.run. */
import { sq } from "../util/shell.ts";
import type {
  DiffResult,
  ExecRequest,
  ExecResult,
  FileContent,
  SubmitRequest,
  SubmitResult,
  WriteFileRequest,
} from "./api.ts";
import { ServeError } from "./errors.ts";
import { execIn } from "./exec.ts";
import { containerDiff, gradePatch, patchFilesOf } from "./grade.ts";
import { WORKSPACE, workspacePath } from "./paths.ts";
import type { Session, SessionManager } from "./sessions.ts";

export function exec(m: SessionManager, id: string, req: ExecRequest): Promise<ExecResult> {
  const max = m.config.limits.execTimeoutS;
  if (req.timeout_s !== undefined && req.timeout_s > max)
    throw new ServeError("bad_request", `timeout_s ${req.timeout_s} is over the server's limit of ${max} s`);
  const cwd = req.cwd === undefined ? WORKSPACE : workspacePath(req.cwd);
  return m.run(id, (s) =>
    execIn(s.container, {
      command: req.command,
      timeoutMs: Math.round((req.timeout_s ?? max) * 1000),
      capBytes: m.config.outputCapBytes,
      cwd,
      ...(req.env ? { env: req.env } : {}),
    }),
  );
}

const READ_CODES: Record<number, (path: string, out: string, cap: number) => ServeError> = {
  3: (p) => new ServeError("file_not_found", `no file ${p} in the session's container`),
  4: (p) => new ServeError("not_a_file", `${p} is not a regular file (a directory? list it with exec)`),
  5: (p, out, cap) =>
    new ServeError(
      "output_too_large",
      `${p} is ${out.trim().split(" ").pop()} bytes, over the ${cap}-byte limit of a read: read a part of it with exec (head, sed -n)`,
    ),
};

/** Read a file (base64 on the wire inside the container, so any bytes survive). */
export function readFile(
  m: SessionManager,
  id: string,
  rawPath: string,
  encoding?: "utf8" | "base64",
): Promise<FileContent> {
  const path = workspacePath(rawPath);
  const cap = m.config.maxFileBytes;
  const script = [
    `p=${sq(path)}`,
    '[ -e "$p" ] || exit 3',
    '[ -f "$p" ] || exit 4',
    's=$(stat -c %s "$p")',
    `[ "$s" -le ${cap} ] || { echo "SIZE $s"; exit 5; }`,
    'base64 -w0 "$p"',
  ].join("\n");
  return m.run(id, async (s) => {
    const r = await s.container.exec(script, { timeoutMs: 60_000 });
    const err = READ_CODES[r.exitCode];
    if (err) throw err(path, r.output, cap);
    if (r.exitCode !== 0)
      throw new ServeError(
        "internal",
        `reading ${path} failed (exit ${r.exitCode}): ${r.output.slice(-300)}`,
      );
    const bytes = Buffer.from(r.output.trim(), "base64");
    const text = bytes.toString("utf8");
    const asText = encoding === "utf8" || (encoding === undefined && Buffer.from(text, "utf8").equals(bytes));
    return asText
      ? { path, content: text, encoding: "utf8", size: bytes.length }
      : { path, content: bytes.toString("base64"), encoding: "base64", size: bytes.length };
  });
}

export function writeFile(
  m: SessionManager,
  id: string,
  req: WriteFileRequest,
): Promise<{ path: string; size: number }> {
  const path = workspacePath(req.path);
  if (path === WORKSPACE) throw new ServeError("not_a_file", `${path} is the workspace folder, not a file`);
  const bytes = Buffer.from(req.content, req.encoding === "base64" ? "base64" : "utf8");
  if (bytes.length > m.config.maxUploadBytes)
    throw new ServeError(
      "payload_too_large",
      `the file is ${bytes.length} bytes, over the ${m.config.maxUploadBytes}-byte limit of a write (--max-upload-bytes)`,
    );
  return m.run(id, async (s) => {
    try {
      await s.container.writeFile(path, bytes, req.mode);
    } catch (e) {
      const msg = (e as Error).message;
      if (/Is a directory|Not a directory/i.test(msg))
        throw new ServeError("not_a_file", `cannot write ${path}: ${msg.split(": ").pop()}`);
      throw e;
    }
    return { path, size: bytes.length };
  });
}

export function diff(m: SessionManager, id: string): Promise<DiffResult> {
  return m.run(id, async (s) => {
    const d = await containerDiff(s.container, m.config.maxUploadBytes);
    return { diff: d, files: patchFilesOf(d) };
  });
}

/** Grade the request's patch, or the container's own diff, exactly as `evaluate` would. */
export function submit(m: SessionManager, id: string, req: SubmitRequest): Promise<SubmitResult> {
  if (req.patch !== undefined && Buffer.byteLength(req.patch) > m.config.maxUploadBytes)
    throw new ServeError(
      "payload_too_large",
      `the patch is over ${m.config.maxUploadBytes} bytes (--max-upload-bytes)`,
    );
  return m.run(id, async (s: Session) => {
    const patch = req.patch ?? (await containerDiff(s.container, m.config.maxUploadBytes));
    return m.withGrading(() =>
      gradePatch(s.inst, s.image, patch, req.patch === undefined ? "container" : "request", {
        take: (spec) => m.pool.take(spec),
        spec: m.gradeSpec(s.image),
        timeoutMs: m.config.gradeTimeoutS * 1000,
        outputTail: 20_000,
      }),
    );
  });
}
