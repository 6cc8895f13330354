import { z } from "zod";

/** Languages we classify PRs into. JS and TS are kept apart; both share the node recipes. */
export const Language = z.enum([
  "python",
  "javascript",
  "typescript",
  "go",
  "java",
  "kotlin",
  "scala",
  "rust",
  "c",
  "cpp",
  "csharp",
  "ruby",
  "php",
  "swift",
  "other",
]);
export type Language = z.infer<typeof Language>;

/** Pipeline stages; a Rejection names the one where a candidate fell. */
export const Stage = z.enum(["mine", "split", "build", "validate", "export", "evaluate"]);
export type Stage = z.infer<typeof Stage>;

/** `owner/name` */
export const RepoName = z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected owner/name");

/** SWE-bench style id: owner__name-NUMBER */
export function instanceId(repo: string, number: number): string {
  return `${repo.replace("/", "__")}-${number}`;
}

export const Sha = z.string().regex(/^[0-9a-f]{40}$/, "expected a full 40-hex commit id");
