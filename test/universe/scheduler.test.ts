import { describe, expect, it } from "vitest";
import type { Task } from "../../src/records/index.ts";
import { FairScheduler } from "../../src/universe/scheduler.ts";

const task = (repo: string, n: number) =>
  ({ instance_id: `${repo.replace("/", "__")}-${n}`, repo, number: n }) as Task;
const tasks = (repo: string, n: number) => Array.from({ length: n }, (_, i) => task(repo, n - i));

/** Hand out and settle every task, as a queue with `lanes` slots would; returns the order handed out. */
async function drain(s: FairScheduler<Task>, lanes = 1, ms = 10): Promise<string[]> {
  const order: string[] = [];
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (;;) {
        const t = await s.next();
        if (!t) return;
        order.push(t.instance_id);
        await new Promise((r) => setTimeout(r, 1));
        s.settle(t.repo, { built: true, ms });
      }
    }),
  );
  return order;
}

describe("fair turns across repositories", () => {
  it("a large repository gets one turn in R and cannot starve the rest", async () => {
    const s = new FairScheduler<Task>();
    for (const r of ["big/a", "small/b", "small/c"]) s.addRepo(r);
    s.addTasks("big/a", tasks("big/a", 100));
    s.addTasks("small/b", tasks("small/b", 2));
    s.addTasks("small/c", tasks("small/c", 2));
    for (const r of ["big/a", "small/b", "small/c"]) s.mined(r);
    const order = await drain(s);
    expect(order).toHaveLength(104);
    // The small repositories are done within the first six turns, not after the hundred.
    const lastSmall = Math.max(...order.map((id, i) => (id.startsWith("small") ? i : -1)));
    expect(lastSmall).toBeLessThan(6);
    expect(order.slice(0, 3)).toEqual(["big__a-100", "small__b-2", "small__c-2"]);
  });

  it("a repository mined later joins the turns at once", async () => {
    const s = new FairScheduler<Task>();
    s.addRepo("big/a");
    s.addRepo("late/b");
    s.addTasks("big/a", tasks("big/a", 50));
    s.mined("big/a");
    const first = await s.next();
    s.settle(first!.repo, { built: true });
    s.addTasks("late/b", tasks("late/b", 3));
    s.mined("late/b");
    const order = await drain(s);
    expect(order.slice(0, 6).filter((id) => id.startsWith("late"))).toHaveLength(3);
  });

  it("budgets: tasks built (counting tasks under way and earlier sessions) and wall time per repository", async () => {
    const s = new FairScheduler<Task>({ builds: 3, wallMs: 25 });
    s.addRepo("a/x", { done: 1 }); // one built in an earlier session of the same run
    s.addRepo("b/y");
    s.addTasks("a/x", tasks("a/x", 10));
    s.addTasks("b/y", tasks("b/y", 10));
    s.mined("a/x");
    s.mined("b/y");
    const order = await drain(s, 4, 10);
    expect(order.filter((id) => id.startsWith("a__x"))).toHaveLength(2);
    // 10 ms each: the wall budget (25 ms) stops b/y after 3, before its build budget.
    expect(order.filter((id) => id.startsWith("b__y"))).toHaveLength(3);
    expect(s.stoppedBy("a/x")).toBe("builds");
    expect(s.left("a/x")).toBe(8);
    expect(s.finished("a/x")).toBe(true);
  });

  it("a blocked repository hands out nothing more; a requeued task comes back first; a pause holds everything", async () => {
    const s = new FairScheduler<Task>();
    s.addRepo("a/x");
    s.addRepo("b/y");
    s.addTasks("a/x", tasks("a/x", 3));
    s.addTasks("b/y", tasks("b/y", 3));
    s.mined("a/x");
    s.mined("b/y");
    const t1 = (await s.next())!;
    expect(t1.repo).toBe("a/x");
    s.settle("a/x", { built: false });
    s.block("a/x", "broken source");
    const t2 = (await s.next())!;
    expect(t2.repo).toBe("b/y");
    s.pause("engine down");
    let got: Task | undefined;
    const waiting = s.next().then((t) => {
      got = t;
    });
    s.settle("b/y", { built: false, requeue: t2 });
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toBeUndefined();
    s.resume();
    await waiting;
    expect(got?.instance_id).toBe(t2.instance_id);
    s.settle("b/y", { built: true });
    const rest = await drain(s);
    expect(rest).toEqual(["b__y-2", "b__y-1"]);
    expect(s.left("a/x")).toBe(2);
  });

  it("waits while mining goes on, and ends when nothing ever can be handed out", async () => {
    const s = new FairScheduler<Task>();
    s.addRepo("a/x");
    const p = s.next();
    setTimeout(() => {
      s.addTasks("a/x", tasks("a/x", 1));
      s.mined("a/x");
    }, 10);
    const t = await p;
    expect(t?.instance_id).toBe("a__x-1");
    s.settle("a/x", { built: true });
    expect(await s.next()).toBeUndefined();
  });
});
