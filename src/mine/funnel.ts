import type { Store } from "../store/store.ts";

/** What the mine stage produced for a repository, as the CLI prints it. */
export interface MineFunnel {
  repo: string;
  candidates: number;
  /** Tasks ready for building (excludes those that need generated tests). */
  tasks: number;
  /** Tasks kept for a test-generating builder; also counted under rejections as no_test_change. */
  tasks_needing_tests: number;
  rejections: Record<string, number>;
  /** Languages of the ready tasks. */
  languages: Record<string, number>;
}

export function mineFunnel(store: Store, repo: string): MineFunnel {
  const tasks = store.listTasks(repo);
  const ready = tasks.filter((t) => !t.needs_generated_tests && !store.getRejection(t.instance_id));
  const languages: Record<string, number> = {};
  for (const t of ready) languages[t.language] = (languages[t.language] ?? 0) + 1;
  const rejections: Record<string, number> = {};
  for (const r of store.funnel(repo).rejections) rejections[r.reason] = (rejections[r.reason] ?? 0) + r.count;
  return {
    repo,
    candidates: store.funnel(repo).candidates,
    tasks: ready.length,
    tasks_needing_tests: tasks.filter((t) => t.needs_generated_tests).length,
    rejections,
    languages: Object.fromEntries(Object.entries(languages).sort((a, b) => b[1] - a[1])),
  };
}

export function formatFunnel(f: MineFunnel, seconds: number): string {
  const lines = [
    `repo        ${f.repo}`,
    `candidates  ${f.candidates}`,
    `tasks       ${f.tasks}${f.tasks_needing_tests ? `  (+${f.tasks_needing_tests} kept for generated tests)` : ""}`,
    `rejections  ${Object.values(f.rejections).reduce((a, b) => a + b, 0)}`,
    ...Object.entries(f.rejections).map(([r, n]) => `  ${r.padEnd(22)} ${n}`),
    "languages",
    ...Object.entries(f.languages).map(([l, n]) => `  ${l.padEnd(22)} ${n}`),
    `time        ${seconds.toFixed(1)} s`,
  ];
  return `${lines.join("\n")}\n`;
}
