import type Database from "better-sqlite3";
import type { z } from "zod";
import { Candidate, Environment, Instance, Rejection, SyntheticCandidate, Task } from "../records/index.ts";
import { asStoreError, openDatabase } from "./open.ts";
import type { FunnelCounts, Outcome, RepoCounts, Store } from "./store.ts";

type Kind = "candidate" | "task" | "environment" | "instance" | "rejection" | "synthetic";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  repo TEXT NOT NULL,
  language TEXT,
  stage TEXT,
  reason TEXT,
  data TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS records_kind_repo ON records (kind, repo);
CREATE INDEX IF NOT EXISTS records_id ON records (id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
`;

/** SQLite store (better-sqlite3, WAL). Records are stored as validated JSON with a few indexed columns. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;
  private readonly getOne: Database.Statement;
  private readonly listAll: Database.Statement;
  private readonly listRepo: Database.Statement;
  private readonly del: Database.Statement;

  /** `readonly`: open an existing store for reading only (verbs that only read, e.g. `report`); never creates one. */
  constructor(path: string, o: { readonly?: boolean } = {}) {
    // A folder, a damaged or foreign file, or a read-only folder is a StoreError (src/store/open.ts).
    this.db = openDatabase(path, o);
    this.db.pragma("busy_timeout = 10000");
    if (!o.readonly) {
      this.db.pragma("synchronous = NORMAL");
      try {
        this.db.exec(SCHEMA);
      } catch (e) {
        this.db.close();
        throw asStoreError(e, path) ?? e;
      }
    }
    this.upsert = this.db.prepare(
      `INSERT INTO records (kind, id, repo, language, stage, reason, data, updated_at)
       VALUES (@kind, @id, @repo, @language, @stage, @reason, @data, @updated_at)
       ON CONFLICT (kind, id) DO UPDATE SET repo=excluded.repo, language=excluded.language, stage=excluded.stage,
         reason=excluded.reason, data=excluded.data, updated_at=excluded.updated_at`,
    );
    this.getOne = this.db.prepare("SELECT data FROM records WHERE kind = ? AND id = ?");
    this.listAll = this.db.prepare("SELECT data FROM records WHERE kind = ? ORDER BY id");
    this.listRepo = this.db.prepare("SELECT data FROM records WHERE kind = ? AND repo = ? ORDER BY id");
    this.del = this.db.prepare("DELETE FROM records WHERE kind = ? AND id = ?");
  }

  private put<S extends z.ZodTypeAny>(
    kind: Kind,
    schema: S,
    value: z.infer<S>,
    id: string,
    extra: { language?: string; stage?: string; reason?: string } = {},
  ): void {
    const parsed = schema.parse(value) as { repo: string };
    this.upsert.run({
      kind,
      id,
      repo: parsed.repo,
      language: extra.language ?? null,
      stage: extra.stage ?? null,
      reason: extra.reason ?? null,
      data: JSON.stringify(parsed),
      updated_at: new Date().toISOString(),
    });
  }

  private get<T>(kind: Kind, id: string): T | undefined {
    const row = this.getOne.get(kind, id) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as T) : undefined;
  }

  private list<T>(kind: Kind, repo?: string): T[] {
    const rows = (repo ? this.listRepo.all(kind, repo) : this.listAll.all(kind)) as { data: string }[];
    return rows.map((r) => JSON.parse(r.data) as T);
  }

  putCandidate(c: Candidate): void {
    this.put("candidate", Candidate, c, c.id, { language: c.languages[0] });
  }
  getCandidate(id: string): Candidate | undefined {
    return this.get("candidate", id);
  }
  listCandidates(repo?: string): Candidate[] {
    return this.list("candidate", repo);
  }

  putTask(t: Task): void {
    this.put("task", Task, t, t.instance_id, { language: t.language });
  }
  getTask(id: string): Task | undefined {
    return this.get("task", id);
  }
  listTasks(repo?: string): Task[] {
    return this.list("task", repo);
  }

  putEnvironment(e: Environment): void {
    this.put("environment", Environment, e, e.key, { language: e.language });
  }
  getEnvironment(key: string): Environment | undefined {
    return this.get("environment", key);
  }
  listEnvironments(repo?: string): Environment[] {
    return this.list("environment", repo);
  }

  putInstance(i: Instance): void {
    this.transaction(() => {
      this.put("instance", Instance, i, i.instance_id, { language: i.language });
      this.del.run("rejection", i.instance_id);
    });
  }
  getInstance(id: string): Instance | undefined {
    return this.get("instance", id);
  }
  listInstances(repo?: string): Instance[] {
    return this.list("instance", repo);
  }

  putRejection(r: Rejection): void {
    // A candidate ends one way: a rejection replaces an instance that no longer holds (re-validation).
    this.transaction(() => {
      this.put("rejection", Rejection, r, r.id, { stage: r.stage, reason: r.reason });
      this.del.run("instance", r.id);
    });
  }
  getRejection(id: string): Rejection | undefined {
    return this.get("rejection", id);
  }
  listRejections(repo?: string): Rejection[] {
    return this.list("rejection", repo);
  }
  deleteRejection(id: string): void {
    this.del.run("rejection", id);
  }

  putSynthetic(c: SyntheticCandidate): void {
    this.put("synthetic", SyntheticCandidate, c, c.id, { stage: c.strategy, reason: c.reason });
  }
  getSynthetic(id: string): SyntheticCandidate | undefined {
    return this.get("synthetic", id);
  }
  listSynthetic(repo?: string): SyntheticCandidate[] {
    return this.list("synthetic", repo);
  }

  outcome(id: string): Outcome | undefined {
    const kinds = this.db.prepare("SELECT kind FROM records WHERE id = ?").all(id) as { kind: Kind }[];
    const has = new Set(kinds.map((k) => k.kind));
    if (has.has("instance")) return "instance";
    if (has.has("rejection")) return "rejected";
    if (has.has("task")) return "task";
    if (has.has("candidate")) return "candidate";
    return undefined;
  }

  funnel(repo?: string): FunnelCounts {
    const where = repo ? "AND repo = @repo" : "";
    const count = (kind: Kind, extra = "") =>
      (
        this.db
          .prepare(`SELECT COUNT(*) AS n FROM records WHERE kind = @kind ${where} ${extra}`)
          .get({ kind, repo }) as {
          n: number;
        }
      ).n;
    const synthetic = "COALESCE(json_extract(data, '$.source'), 'pr') = 'synthetic'";
    const rejections = this.db
      .prepare(
        `SELECT stage, reason, COUNT(*) AS count FROM records WHERE kind = 'rejection' ${where}
         GROUP BY stage, reason ORDER BY count DESC, stage, reason`,
      )
      .all({ repo }) as FunnelCounts["rejections"];
    const languages = this.db
      .prepare(
        `SELECT language, SUM(kind = 'task') AS tasks, SUM(kind = 'instance') AS instances FROM records x
         WHERE kind IN ('task', 'instance') AND language IS NOT NULL ${where} AND NOT ${synthetic.replace("data", "x.data")}
         AND NOT EXISTS (SELECT 1 FROM records r WHERE r.kind = 'rejection' AND r.id = x.id AND r.stage IN ('mine', 'split'))
         GROUP BY language ORDER BY tasks DESC, language`,
      )
      .all({ repo }) as FunnelCounts["languages"];
    // Tasks kept only for generated tests carry a mine-stage rejection too: they are not buildable tasks yet.
    const awaiting = (
      this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM records t WHERE t.kind = 'task' ${repo ? "AND t.repo = @repo" : ""}
           AND EXISTS (SELECT 1 FROM records r WHERE r.kind = 'rejection' AND r.id = t.id AND r.stage IN ('mine', 'split'))`,
        )
        .get({ repo }) as { n: number }
    ).n;
    // Tasks not built yet: no instance and no rejection of any stage.
    const pending = (
      this.db
        .prepare(
          `SELECT COUNT(*) AS n FROM records t WHERE t.kind = 'task' ${repo ? "AND t.repo = @repo" : ""}
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.id = t.id AND r.kind IN ('rejection', 'instance'))`,
        )
        .get({ repo }) as { n: number }
    ).n;
    return {
      candidates: count("candidate"),
      tasks: count("task") - awaiting,
      needs_tests: awaiting,
      pending,
      instances: count("instance", `AND NOT ${synthetic}`),
      synthetic: count("instance", `AND ${synthetic}`),
      rejections,
      languages,
    };
  }

  repoCounts(): RepoCounts[] {
    const rows = this.db
      .prepare(
        `SELECT repo,
           SUM(kind = 'candidate') AS candidates,
           SUM(kind = 'instance' AND json_extract(data, '$.source') IS NOT 'synthetic') AS instances,
           SUM(kind = 'instance' AND json_extract(data, '$.source') IS 'synthetic') AS synthetic,
           SUM(kind = 'rejection' AND stage IN ('build', 'validate')) AS failed,
           SUM(kind = 'rejection' AND stage IN ('mine', 'split')) AS mined_out
         FROM records GROUP BY repo ORDER BY repo`,
      )
      .all() as Omit<RepoCounts, "tasks" | "pending" | "language">[];
    // Tasks, the pending ones and the main language: tasks without a mine/split rejection (buildable ones).
    const tasks = this.db
      .prepare(
        `SELECT t.repo AS repo, t.language AS language, COUNT(*) AS n,
           SUM(NOT EXISTS (SELECT 1 FROM records r WHERE r.id = t.id AND r.kind IN ('rejection', 'instance'))) AS pending
         FROM records t WHERE t.kind = 'task'
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.kind = 'rejection' AND r.id = t.id AND r.stage IN ('mine', 'split'))
         GROUP BY t.repo, t.language ORDER BY t.repo, n DESC`,
      )
      .all() as { repo: string; language: string | null; n: number; pending: number }[];
    const by = new Map<string, { tasks: number; pending: number; language: string | null }>();
    for (const t of tasks) {
      const b = by.get(t.repo) ?? { tasks: 0, pending: 0, language: t.language };
      b.tasks += t.n;
      b.pending += t.pending;
      by.set(t.repo, b);
    }
    return rows.map((r) => ({ ...r, ...(by.get(r.repo) ?? { tasks: 0, pending: 0, language: null }) }));
  }

  languageCounts(): RepoCounts[] {
    const rows = this.db
      .prepare(
        `SELECT t.language AS language, COUNT(*) AS tasks,
           SUM(EXISTS (SELECT 1 FROM records i WHERE i.kind = 'instance' AND i.id = t.id)) AS instances,
           SUM(EXISTS (SELECT 1 FROM records r WHERE r.kind = 'rejection' AND r.id = t.id AND r.stage IN ('build', 'validate'))) AS failed,
           SUM(NOT EXISTS (SELECT 1 FROM records r WHERE r.id = t.id AND r.kind IN ('rejection', 'instance'))) AS pending
         FROM records t WHERE t.kind = 'task'
           AND NOT EXISTS (SELECT 1 FROM records r WHERE r.kind = 'rejection' AND r.id = t.id AND r.stage IN ('mine', 'split'))
         GROUP BY t.language ORDER BY tasks DESC, t.language`,
      )
      .all() as { language: string; tasks: number; instances: number; failed: number; pending: number }[];
    return rows.map((r) => ({ repo: r.language, candidates: 0, mined_out: 0, synthetic: 0, ...r }));
  }

  listMeta(prefix: string): [string, string][] {
    const rows = this.db
      .prepare("SELECT key, value FROM meta WHERE key >= ? AND key < ? ORDER BY key")
      .all(prefix, `${prefix}\uffff`) as { key: string; value: string }[];
    return rows.map((r) => [r.key, r.value]);
  }

  /** Every repository the store holds records of. */
  repos(): string[] {
    return (
      this.db.prepare("SELECT DISTINCT repo FROM records ORDER BY repo").all() as { repo: string }[]
    ).map((r) => r.repo);
  }

  /** One candidate of `repo` (to check that a clone holds the repository's commits), if any. */
  sampleCandidate(repo: string): Candidate | undefined {
    const row = this.db
      .prepare("SELECT data FROM records WHERE kind = 'candidate' AND repo = ? LIMIT 1")
      .get(repo) as { data: string } | undefined;
    return row ? (JSON.parse(row.data) as Candidate) : undefined;
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }
  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }
}
