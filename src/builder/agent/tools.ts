import { MARK } from "../../harness/output.ts";
import { parserNames } from "../../harness/parsers/index.ts";
import { applyScript, patchFiles, testPatchScript } from "../../harness/run-state.ts";
import type { ToolSpec } from "../../model/model.ts";
import type { Task } from "../../records/index.ts";
import type { Container } from "../../sandbox/sandbox.ts";
import { sq } from "../../util/shell.ts";

/** The building agent's tools (DESIGN §5). `submit` ends a round: its arguments are verified, not run. */
export function toolSpecs(o: { generateTests: boolean }): ToolSpec[] {
  const str = (description: string) => ({ type: "string", description });
  return [
    {
      name: "bash",
      description:
        "Run a bash script in the build container (Debian, root, network on, repository at /testbed). " +
        "Output is interleaved stdout+stderr, truncated to its head and tail.",
      parameters: {
        type: "object",
        properties: {
          command: str("bash script"),
          timeout: { type: "integer", description: "seconds (default 300)" },
        },
        required: ["command"],
      },
    },
    {
      name: "read_file",
      description: "Read a text file in the container (absolute, or relative to /testbed).",
      parameters: { type: "object", properties: { path: str("file path") }, required: ["path"] },
    },
    {
      name: "write_file",
      description: "Write a text file in the container (absolute, or relative to /testbed).",
      parameters: {
        type: "object",
        properties: { path: str("file path"), content: str("full file content") },
        required: ["path", "content"],
      },
    },
    {
      name: "switch_to_bug",
      description:
        "Put /testbed in the buggy state: base commit + the test patch (the fix reverted). Installed files stay.",
      parameters: { type: "object", properties: {} },
    },
    {
      name: "switch_to_resolved",
      description: "Put /testbed in the resolved state: base commit + the test patch + the gold fix.",
      parameters: { type: "object", properties: {} },
    },
    {
      name: "submit",
      description:
        "Submit the environment. It is verified at once: hacking checks, an image rebuilt from scratch with your " +
        "install script, the resolved state must exit 0 and the buggy state non-zero. You get the exact failure back.",
      parameters: {
        type: "object",
        properties: {
          apt_packages: {
            type: "array",
            items: { type: "string" },
            description: "Debian packages to install first",
          },
          install: str(
            "bash script that, on a fresh Debian container with the repository at /testbed (cwd) and network on, " +
              "installs the toolchain and every dependency the tests need",
          ),
          test_command: str(
            "the command that runs the task's tests (selected tests only), exiting with the runner's status; " +
              "it is wrapped into evaluation.sh for you. Give this or evaluation_script.",
          ),
          evaluation_script: str(
            "a full evaluation.sh instead of test_command: must print the runner's output between " +
              `\`echo "${MARK.testStart("$nonce")}"\` and \`echo "${MARK.testEnd("$nonce")}"\` ` +
              '(nonce="${SWEU_NONCE:-}") and exit with the runner\'s status',
          ),
          parser: { type: "string", enum: parserNames(), description: "how to read the test output" },
          ...(o.generateTests
            ? {
                test_files: {
                  type: "array",
                  items: { type: "string" },
                  description:
                    "the test files you wrote (paths relative to /testbed); they become the test patch",
                },
              }
            : {}),
        },
        required: ["install", "parser", ...(o.generateTests ? ["test_files"] : [])],
      },
    },
  ];
}

const STAGE = "/tmp/sweu-agent";

/** Keep the head and the tail of long output: the start says what ran, the end says how it ended. */
export function truncate(s: string, max = 8000): string {
  if (s.length <= max) return s;
  const head = Math.floor(max * 0.3);
  return `${s.slice(0, head)}\n… [${s.length - max} characters cut] …\n${s.slice(s.length - (max - head))}`;
}

/** The tools' side effects in the build container. */
export class Workspace {
  readonly container: Container;
  readonly task: Task;
  state: "buggy" | "resolved" = "buggy";

  constructor(container: Container, task: Task) {
    this.container = container;
    this.task = task;
  }

  async init(): Promise<void> {
    await this.container.exec(`mkdir -p ${STAGE} && git config --global --add safe.directory /testbed`, {
      timeoutMs: 30_000,
    });
    await this.container.writeFile(`${STAGE}/fix.diff`, this.task.patch);
    await this.container.writeFile(`${STAGE}/tests.diff`, this.task.test_patch);
  }

  async bash(command: string, timeoutSec = 300): Promise<string> {
    const r = await this.container.exec(command, {
      workdir: "/testbed",
      timeoutMs: Math.min(timeoutSec, 1800) * 1000,
    });
    const status = r.timedOut ? `timed out after ${timeoutSec}s` : `exit code ${r.exitCode}`;
    return `${status}\n${truncate(r.output)}`;
  }

  private abs(path: string): string {
    return path.startsWith("/") ? path : `/testbed/${path}`;
  }

  async readFile(path: string): Promise<string> {
    return truncate((await this.container.readFile(this.abs(path))).toString("utf8"), 20_000);
  }

  async writeFile(path: string, content: string): Promise<string> {
    await this.container.writeFile(this.abs(path), content);
    return `wrote ${content.length} characters to ${this.abs(path)}`;
  }

  /** Restore every file the fix or the tests touch to the base commit, apply the test patch, then maybe the fix. */
  async switchTo(state: "buggy" | "resolved"): Promise<string> {
    const steps = patchFiles(this.task.patch).map(
      (f) =>
        `if git cat-file -e HEAD:${sq(f)} 2>/dev/null; then git checkout -q HEAD -- ${sq(f)}; else rm -f ${sq(f)}; fi`,
    );
    if (this.task.test_patch.trim()) steps.push(testPatchScript(this.task.test_patch, `${STAGE}/tests.diff`));
    if (state === "resolved" && this.task.patch.trim()) steps.push(`(${applyScript(`${STAGE}/fix.diff`)})`);
    const r = await this.container.exec(`set -e\n${steps.join("\n")}`, {
      workdir: "/testbed",
      timeoutMs: 120_000,
    });
    if (r.exitCode !== 0)
      return `could not switch to ${state}: exit ${r.exitCode}\n${truncate(r.output, 3000)}`;
    this.state = state;
    return `/testbed is now in the ${state} state (${state === "buggy" ? "base + tests" : "base + tests + fix"}).`;
  }

  /** The agent's test files as a patch against the base commit (for tasks without tests of their own). */
  async testPatchOf(paths: string[]): Promise<string> {
    const q = paths.map((p) => sq(p.replace(/^\/testbed\//, ""))).join(" ");
    const r = await this.container.exec(
      `git add -N -- ${q} && git diff HEAD -- ${q}; rc=$?; git reset -q -- ${q}; exit $rc`,
      {
        workdir: "/testbed",
        timeoutMs: 60_000,
      },
    );
    if (r.exitCode !== 0) throw new Error(`cannot diff the test files: ${truncate(r.output, 2000)}`);
    return r.output;
  }
}
