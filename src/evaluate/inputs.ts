/** Reading the harness's inputs: a dataset (our dataset.jsonl or an export dir) and SWE-bench predictions. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { rowToInstance } from "../export/dataset.ts";
import type { Instance } from "../records/index.ts";

/** Bad input: the message says which file and which entry. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** SWE-bench's prediction record. `model_patch` may be null (the model produced nothing). */
export const Prediction = z.object({
  instance_id: z.string().min(1),
  model_name_or_path: z.string().min(1),
  model_patch: z.string().nullable(),
});
export type Prediction = z.infer<typeof Prediction>;

/** JSON list, or one JSON value per line. */
function readRecords(path: string): { where: string; value: unknown }[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8").replace(/^\uFEFF/, ""); // a UTF-8 BOM (Windows editors) is not data
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith("[")) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (e) {
      throw new InputError(`${path}: not valid JSON: ${(e as Error).message}`);
    }
    return (list as unknown[]).map((value, i) => ({ where: `${path}[${i}]`, value }));
  }
  const out: { where: string; value: unknown }[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push({ where: `${path}:${i + 1}`, value: JSON.parse(line) });
    } catch (e) {
      throw new InputError(`${path}:${i + 1}: not valid JSON: ${(e as Error).message}`);
    }
  });
  return out;
}

/** `path` is a dataset.jsonl / .json file, or an export directory holding dataset.jsonl. */
export function loadDataset(path: string): Instance[] {
  if (!existsSync(path)) throw new InputError(`dataset not found: ${path}`);
  const file = statSync(path).isDirectory() ? join(path, "dataset.jsonl") : path;
  if (!existsSync(file)) throw new InputError(`no dataset.jsonl in ${path}`);
  const seen = new Set<string>();
  return readRecords(file).map(({ where, value }) => {
    let inst: Instance;
    try {
      inst = rowToInstance(value, where);
    } catch (e) {
      throw new InputError((e as Error).message);
    }
    if (seen.has(inst.instance_id))
      throw new InputError(`${where}: duplicate instance_id ${inst.instance_id}`);
    seen.add(inst.instance_id);
    return inst;
  });
}

/** The pseudo-predictions SWE-bench uses to check a dataset: every gold patch, or every patch empty. */
export const SPECIAL_PREDICTIONS = { gold: "gold", empty: "empty" } as const;

export function loadPredictions(spec: string, dataset: readonly Instance[]): Prediction[] {
  if (spec === SPECIAL_PREDICTIONS.gold) {
    return dataset.map((i) => ({
      instance_id: i.instance_id,
      model_name_or_path: "gold",
      model_patch: i.patch,
    }));
  }
  if (spec === SPECIAL_PREDICTIONS.empty) {
    return dataset.map((i) => ({ instance_id: i.instance_id, model_name_or_path: "empty", model_patch: "" }));
  }
  if (!existsSync(spec))
    throw new InputError(`predictions not found: ${spec} (expected a file, "gold" or "empty")`);
  const seen = new Set<string>();
  return readRecords(spec).map(({ where, value }) => {
    const p = Prediction.safeParse(value);
    if (!p.success) {
      const issue = p.error.issues[0];
      throw new InputError(`${where}: invalid prediction: '${issue?.path.join(".")}' ${issue?.message}`);
    }
    // One prediction per model and instance: two models' predictions for one instance are both evaluated.
    const key = JSON.stringify([p.data.model_name_or_path, p.data.instance_id]);
    if (seen.has(key))
      throw new InputError(
        `${where}: duplicate prediction of ${p.data.model_name_or_path} for ${p.data.instance_id}`,
      );
    seen.add(key);
    return p.data;
  });
}
