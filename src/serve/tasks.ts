/** The served tasks as an agent may see them: never the gold patch, the test patch or the verifier. */
import type { Instance } from "../records/index.ts";
import type { TaskDetail, TaskSummary } from "./api.ts";
import type { SessionManager } from "./sessions.ts";

function summary(i: Instance): TaskSummary {
  return {
    instance_id: i.instance_id,
    repo: i.repo,
    language: i.language,
    image_name: i.image_name ?? i.image,
    created_at: i.created_at,
  };
}

export function taskDetail(i: Instance): TaskDetail {
  return {
    ...summary(i),
    base_commit: i.base_commit,
    problem_statement: i.problem_statement,
    hints_text: i.hints_text,
    version: i.version,
  };
}

export function taskList(
  m: SessionManager,
  q: { offset?: string; limit?: string; repo?: string; language?: string },
): { total: number; tasks: TaskSummary[] } {
  const all = [...m.instances.values()].filter(
    (i) => (!q.repo || i.repo === q.repo) && (!q.language || i.language === q.language),
  );
  const offset = Number(q.offset ?? 0);
  return {
    total: all.length,
    tasks: all.slice(offset, offset + Math.min(10_000, Number(q.limit ?? 100))).map(summary),
  };
}
