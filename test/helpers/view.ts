import type { RepoView } from "../../src/builder/repo.ts";
import type { Task } from "../../src/records/index.ts";

/** An in-memory RepoView: recipes only read paths and manifests. */
export function memoryView(files: Record<string, string>): RepoView {
  const names = Object.keys(files);
  return {
    files: names,
    has: (p) => p in files,
    read: (p) => files[p],
    first: (...ps) => ps.find((p) => p in files),
  };
}

export function fakeTask(language: Task["language"]): Task {
  return { language, test_patch: "", patch: "" } as unknown as Task;
}
