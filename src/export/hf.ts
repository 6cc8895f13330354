/**
 * A dataset in the Hugging Face layout: sharded Parquet under `data/` (`train-00000-of-00003.parquet`, …),
 * a dataset card (README.md: YAML front matter with the configs and features, then what each column
 * means), and `dataset.jsonl` beside it with the same rows. `datasets.load_dataset(<folder>)` reads the
 * card's config; `load_dataset("json", data_files=".../dataset.jsonl")` reads the JSONL.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { COLUMN_DOCS, DATASET_COLUMNS, type DatasetRow } from "./dataset.ts";
import { datasetParquet } from "./parquet.ts";

export interface HfOptions {
  /** A shard closes once its rows hold this many bytes of text (default 128 MiB) or `shardRows` rows. */
  shardBytes?: number;
  shardRows?: number;
  title?: string;
  /** Lines of the card's summary (counts, repositories, languages). */
  summary?: string[];
}

export interface HfFiles {
  card: string;
  jsonl: string;
  shards: string[];
}

/** Rows split into shards by size, in order. */
export function shardRows(rows: readonly DatasetRow[], o: HfOptions = {}): DatasetRow[][] {
  const maxBytes = o.shardBytes ?? 128 * 1024 * 1024;
  const maxRows = o.shardRows ?? 50_000;
  const shards: DatasetRow[][] = [];
  let cur: DatasetRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    const n = Object.values(r).reduce((a, v) => a + v.length, 0);
    if (cur.length && (bytes + n > maxBytes || cur.length >= maxRows)) {
      shards.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(r);
    bytes += n;
  }
  if (cur.length || shards.length === 0) shards.push(cur);
  return shards;
}

const SHARD = /^train-\d{5}-of-\d{5}\.parquet$/;

export function writeHfDataset(outDir: string, rows: readonly DatasetRow[], o: HfOptions = {}): HfFiles {
  const dataDir = join(outDir, "data");
  const shards = shardRows(rows, o);
  const names = shards.map((_, i) => `train-${pad(i)}-of-${pad(shards.length)}.parquet`);
  shards.forEach((s, i) => {
    writeFileAtomic(join(dataDir, names[i]!), datasetParquet(s));
  });
  // Shards of an earlier export with another count would be read as part of this one.
  for (const f of existsSync(dataDir) ? readdirSync(dataDir) : [])
    if (SHARD.test(f) && !names.includes(f)) rmSync(join(dataDir, f), { force: true });
  const jsonl = join(outDir, "dataset.jsonl");
  writeLinesAtomic(jsonl, rows);
  const card = join(outDir, "README.md");
  writeFileAtomic(card, datasetCard(rows.length, o));
  return { card, jsonl, shards: names.map((n) => join(dataDir, n)) };
}

const pad = (n: number) => String(n).padStart(5, "0");

/** JSON lines written row by row to a temp file, then renamed (the whole text is never in memory at once). */
function writeLinesAtomic(path: string, rows: readonly unknown[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.dataset.jsonl.tmp-${process.pid}`);
  const fd = openSync(tmp, "w");
  try {
    for (const r of rows) writeSync(fd, `${JSON.stringify(r)}\n`);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** The dataset card: the configs `datasets` reads, the features, and the meaning of each column. */
export function datasetCard(count: number, o: HfOptions = {}): string {
  const yaml = [
    "---",
    "pretty_name: " + JSON.stringify(o.title ?? "swe-universe environments"),
    "tags:",
    "- code",
    "- software-engineering",
    "- swe-bench",
    "configs:",
    "- config_name: default",
    "  data_files:",
    "  - split: train",
    "    path: data/train-*.parquet",
    "dataset_info:",
    "  features:",
    ...DATASET_COLUMNS.flatMap(([name]) => [`  - name: ${name}`, "    dtype: string"]),
    "  splits:",
    "  - name: train",
    `    num_examples: ${count}`,
    "---",
  ];
  const rows = DATASET_COLUMNS.map(([name]) => `| \`${name}\` | ${COLUMN_DOCS[name]} |`);
  return [
    ...yaml,
    "",
    `# ${o.title ?? "swe-universe environments"}`,
    "",
    "Verified software-engineering environments made from merged pull requests by swe-universe: for each",
    "instance, a container image with the repository at the PR's base commit and its dependencies installed,",
    "the gold patch, the PR's tests, and a verifier that fails on the buggy code and passes once it is fixed.",
    "",
    ...(o.summary?.length ? [...o.summary, ""] : []),
    "## Columns",
    "",
    "Every column is a UTF-8 string; list- and object-valued fields are JSON-encoded (decode with `json.loads`).",
    "",
    "| column | content |",
    "| --- | --- |",
    ...rows,
    "",
    "## Loading",
    "",
    "```python",
    "import datasets, json",
    'ds = datasets.load_dataset("path/to/this/folder", split="train")   # the Parquet shards under data/',
    'ds = datasets.load_dataset("json", data_files="dataset.jsonl", split="train")   # the same rows',
    'f2p = json.loads(ds[0]["FAIL_TO_PASS"])',
    "```",
    "",
  ].join("\n");
}
