import type { ReasonCode } from "../records/index.ts";

/** What a run reports as it goes (progress bars, logs). */
export type PipelineEvent =
  | { type: "mined"; tasks: number; rejections: number; skipped: number }
  | { type: "task-start"; id: string; index: number; total: number }
  | { type: "task-end"; id: string; outcome: "instance" | "rejected"; reason?: ReasonCode; ms: number }
  /** The job failed for the machine's reasons (its typed cause when known): nothing recorded, the task stays pending. */
  | { type: "task-failed"; id: string; cause?: string; detail: string }
  | { type: "paused"; why: string }
  | { type: "resumed"; ms: number };
