import { z } from "zod";
import { Language, RepoName } from "./common.ts";

/** How to reproduce a task's runtime. */
export const Environment = z.object({
  /** Content key: a hash of base image + install steps + dependency manifests; equal keys share an image. */
  key: z.string(),
  repo: RepoName,
  language: Language,
  base_image: z.string(),
  dockerfile: z.string(),
  image: z.string(),
  /** Where other machines pull the environment image from: set once it was pushed to a registry. */
  image_name: z.string().optional(),
  recipe: z.string(),
  toolchain: z.record(z.string(), z.string()).default({}),
  /** The command evaluation.sh runs, with `{tests}` replaced by the selected test files. */
  test_command: z.string(),
  /** Name of the log parser in the parser registry. */
  parser: z.string(),
  image_size_bytes: z.number().int().nonnegative().optional(),
  created_at: z.string(),
});
export type Environment = z.infer<typeof Environment>;
