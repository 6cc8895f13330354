/**
 * Opening a store file safely: a folder where the file should be, a file that is not SQLite (garbage,
 * truncated), another program's database, or a folder that cannot be written are each named plainly
 * (StoreError) instead of crashing later — and a foreign database is never given our tables.
 */
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";

export type StoreProblem = "not_a_store" | "foreign" | "unwritable" | "missing";

export class StoreError extends Error {
  readonly problem: StoreProblem;
  readonly path: string;
  constructor(problem: StoreProblem, path: string, message: string) {
    super(message);
    this.name = "StoreError";
    this.problem = problem;
    this.path = path;
  }
}

/** The nearest folder at or above `path` that exists. */
function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** mkdir -p that says which existing folder stopped it (Node says ENOENT under a read-only parent). */
export function ensureFolder(dir: string, file = dir): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const at = nearestExisting(dir);
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOTDIR" || code === "EEXIST" || (existsSync(at) && !statSync(at).isDirectory())
        ? `${at} is a file, not a folder`
        : folderWritable(at)
          ? `${code}`
          : `${at} is read-only or not writable`;
    throw new StoreError("unwritable", file, `cannot create the run folder ${dir}: ${why}`);
  }
}

/** Checks made before better-sqlite3 opens `path`. */
export function checkStorePath(path: string, o: { readonly?: boolean } = {}): void {
  if (path === ":memory:") return;
  if (existsSync(path) && statSync(path).isDirectory())
    throw new StoreError("not_a_store", path, `${path} is a folder, not a store file`);
  if (o.readonly) {
    if (!existsSync(path)) throw new StoreError("missing", path, `no store at ${path}`);
    return;
  }
  const dir = dirname(path);
  ensureFolder(dir, path);
  try {
    accessSync(dir, constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
  } catch {
    throw new StoreError(
      "unwritable",
      path,
      `the run folder ${dir} is read-only: the store cannot be written (report works on it)`,
    );
  }
}

/** Tables of a database that already has some; ours when it has `records` and `meta` with our columns. */
export function checkOurs(db: Database.Database, path: string, readonly = false): void {
  let tables: string[];
  try {
    tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((t) => t.name);
  } catch (e) {
    throw asStoreError(e, path) ?? e;
  }
  if (tables.length === 0 && readonly)
    throw new StoreError(
      "not_a_store",
      path,
      `${path} is empty: not a store yet (nothing was mined into it)`,
    );
  if (tables.length === 0) return;
  const cols = tables.includes("records")
    ? (db.prepare("PRAGMA table_info(records)").all() as { name: string }[]).map((c) => c.name)
    : [];
  const want = ["kind", "id", "repo", "data"];
  if (!want.every((c) => cols.includes(c)))
    throw new StoreError(
      "foreign",
      path,
      `${path} is an SQLite database of another program (tables: ${tables.slice(0, 5).join(", ")}), not a swe-universe store; it was left as it is`,
    );
}

/** A StoreError for the errors SQLite raises on a bad file, else undefined. */
export function asStoreError(e: unknown, path: string): StoreError | undefined {
  const code = (e as { code?: string }).code ?? "";
  if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT" || code.startsWith("SQLITE_CORRUPT"))
    return new StoreError("not_a_store", path, `${path} is not a store: the file is damaged or not SQLite`);
  if (code === "SQLITE_READONLY" || code.startsWith("SQLITE_READONLY") || code === "SQLITE_CANTOPEN")
    return new StoreError(
      "unwritable",
      path,
      `cannot write the store ${path}: the file or its folder is read-only`,
    );
  return undefined;
}

/**
 * A store in WAL mode on a read-only filesystem cannot be opened even for reading (SQLite needs its -shm
 * file): read a copy in a temporary folder instead, removed when the process exits.
 */
function readOnlyCopy(path: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sweu-ro-store-"));
  for (const suffix of ["", "-wal"])
    if (existsSync(path + suffix)) copyFileSync(path + suffix, join(dir, `store.sqlite${suffix}`));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "store.sqlite");
}

function folderWritable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function openReadOnly(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare("SELECT 1 FROM sqlite_master LIMIT 1").get(); // a WAL store fails here, not at open
    return db;
  } catch (e) {
    db?.close();
    if ((e as { code?: string }).code !== "SQLITE_CANTOPEN" || folderWritable(dirname(path))) throw e;
    return new Database(readOnlyCopy(path), { readonly: true, fileMustExist: true });
  }
}

/** Open the database at `path` (read-only when asked): every failure of the file itself is a StoreError. */
export function openDatabase(path: string, o: { readonly?: boolean } = {}): Database.Database {
  checkStorePath(path, o);
  let db: Database.Database | undefined;
  try {
    db = o.readonly ? openReadOnly(path) : new Database(path);
    if (!o.readonly) db.pragma("journal_mode = WAL");
    checkOurs(db, path, o.readonly);
    return db;
  } catch (e) {
    db?.close();
    throw asStoreError(e, path) ?? e;
  }
}
