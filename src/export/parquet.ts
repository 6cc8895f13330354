/** dataset.parquet: the same columns and values as dataset.jsonl, every column a UTF-8 string. */
import { parquetWriteBuffer } from "hyparquet-writer";
import { writeFileAtomic } from "./atomic.ts";
import { DATASET_COLUMNS, type DatasetRow } from "./dataset.ts";

export function datasetParquet(rows: readonly DatasetRow[]): Uint8Array {
  const buf = parquetWriteBuffer({
    columnData: DATASET_COLUMNS.map(([name]) => ({
      name,
      data: rows.map((r) => r[name]),
      type: "STRING" as const,
      nullable: false,
    })),
    createdBy: "swe-universe",
  });
  return new Uint8Array(buf);
}

export function writeDatasetParquet(path: string, rows: readonly DatasetRow[]): void {
  writeFileAtomic(path, datasetParquet(rows));
}
