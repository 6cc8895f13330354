import { describe, expect, it } from "vitest";
import { GitSource } from "../../src/mine/git-source.ts";
import { mineBudget, mineWithinBudget } from "../../src/run/mine-budget.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { prsRepo } from "../universe/helpers.ts";

describe("a mining budget is the run's", () => {
  it("run --limit N killed after part of its mining, then the same command: N candidates in all, not N more", async () => {
    const source = await GitSource.open(prsRepo(9).dir);
    const store = new SqliteStore(":memory:");
    // The first session stops after 2 of its 4 (a kill; here an abort after two outcomes).
    const stop = new AbortController();
    let written = 0;
    await mineWithinBudget(source, store, {
      limit: 4,
      signal: stop.signal,
      concurrency: 1,
      onOutcome: () => {
        if (++written === 2) stop.abort();
      },
    });
    expect(store.listCandidates()).toHaveLength(2);
    expect(mineBudget(store, source.repo)).toEqual({ limit: 4, complete: false });
    // The same command again finishes the budget …
    const second = await mineWithinBudget(source, store, { limit: 4 });
    expect(second).toMatchObject({ tasks: 2, complete: true });
    expect(store.listCandidates().map((c) => c.number)).toEqual([6, 7, 8, 9]);
    // … and once more mines nothing (as on iamkun/dayjs it mined 20 more).
    const third = await mineWithinBudget(source, store, { limit: 4 });
    expect(third).toMatchObject({ listed: 0, tasks: 0, skipped: 4 });
    expect(store.listCandidates()).toHaveLength(4);
    // A larger budget is a new command: the difference.
    await mineWithinBudget(source, store, { limit: 6 });
    expect(store.listCandidates()).toHaveLength(6);
    await source.close();
    store.close();
  });
});
