import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeGitHubClient } from "../../src/mine/github-client.ts";
import { checkWithApi, dedupe, readRepoList } from "../../src/universe/inputs.ts";
import { queryText, searchRepositories } from "../../src/universe/search.ts";
import { TestRepo } from "../helpers/repos.ts";
import { type FakeRepo, type FakeSearch, startFakeSearch } from "./fake-github-search.ts";

const fakes: FakeSearch[] = [];
afterAll(async () => {
  for (const f of fakes) await f.close();
});

describe("a repository list", () => {
  it("names duplicates however written, invalid lines, missing paths; keeps the first of each", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-list-"));
    const a = new TestRepo();
    a.commit("one", { "a.txt": "a\n" });
    a.git("remote", "add", "origin", "https://github.com/Acme/Calc.git");
    const local = new TestRepo();
    local.commit("one", { "b.txt": "b\n" });
    writeFileSync(
      join(dir, "repos.txt"),
      [
        "# the run's repositories",
        a.dir,
        "https://github.com/acme/calc", // the same repository as the clone above
        "acme/calc.git   # not owner/name: the .git makes it a name with a dot, still the same? no: another name",
        "ACME/CALC",
        local.dir,
        "./nowhere",
        "not a repository at all",
        "git@github.com:other/tool.git",
        "other/tool",
        "",
      ].join("\n"),
    );
    const l = await readRepoList(join(dir, "repos.txt"));
    dedupe(l);
    expect(l.repos.map((r) => [r.from, r.name])).toEqual([
      ["repos.txt:2", "Acme/Calc"],
      ["repos.txt:4", "acme/calc.git"],
      ["repos.txt:6", `local/${local.dir.split("/").pop()}`],
      ["repos.txt:9", "other/tool"],
    ]);
    expect(l.repos[0]).toMatchObject({ location: a.dir, cloneUrl: "https://github.com/Acme/Calc.git" });
    expect(l.repos[3]).toMatchObject({ location: "git@github.com:other/tool.git" });
    const kinds = l.notes.map((n) => [n.from, n.kind]);
    expect(kinds).toEqual([
      ["repos.txt:7", "not_found"],
      ["repos.txt:8", "invalid"],
      ["repos.txt:3", "duplicate"],
      ["repos.txt:5", "duplicate"],
      ["repos.txt:10", "duplicate"],
    ]);
    expect(l.notes.find((n) => n.from === "repos.txt:3")?.detail).toMatch(/already listed \(repos\.txt:2\)/);
  });

  it("two checkouts that share a local name are two repositories: the second gets a name of its own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sweu-list-"));
    const mk = (sub: string) => {
      const r = new TestRepo();
      r.commit("one", { [`${sub}.txt`]: `${sub}\n` });
      const at = join(dir, sub, "proj");
      execFileSync("mkdir", ["-p", join(dir, sub)]);
      execFileSync("mv", [r.dir, at]);
      return at;
    };
    const [a, b] = [mk("a"), mk("b")];
    writeFileSync(join(dir, "repos.txt"), [a, b, a, `${dir}/a/../a/proj`, ""].join("\n"));
    const read = async () => {
      const l = await readRepoList(join(dir, "repos.txt"));
      dedupe(l);
      return l;
    };
    const l = await read();
    expect(l.repos.map((r) => r.name)).toEqual([
      "local/proj",
      expect.stringMatching(/^local\/proj-[0-9a-f]{8}$/),
    ]);
    expect(l.notes.map((n) => [n.from, n.kind])).toEqual([
      ["repos.txt:2", "renamed"],
      ["repos.txt:3", "duplicate"],
      ["repos.txt:4", "duplicate"],
    ]);
    // The same list read again (a resumed run) names them the same.
    expect((await read()).repos.map((r) => r.name)).toEqual(l.repos.map((r) => r.name));
  });

  it("asks the API: a renamed repository goes by its new name (and dedupes against it), a missing or private one is named", async () => {
    const home = mkdtempSync(join(tmpdir(), "sweu-api-"));
    const newer: FakeRepo = {
      full_name: "acme/newname",
      created_at: "2020-01-01T00:00:00Z",
      clone_url: `file://${home}/acme/newname.git`,
    };
    const fake = await startFakeSearch([], {
      "acme/oldname": { movedTo: "acme/newname" },
      "acme/newname": newer,
      "acme/secret": 404,
    });
    fakes.push(fake);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "list"), "acme/oldname\nacme/secret\nhttps://github.com/acme/newname.git\n");
    const l = await readRepoList(join(home, "list"));
    const api = makeGitHubClient({ baseUrl: fake.url, retries: 0 });
    await checkWithApi(api, l, () => true);
    dedupe(l);
    expect(l.repos.map((r) => [r.from, r.name, r.location])).toEqual([
      ["list:1", "acme/newname", newer.clone_url],
    ]);
    expect(l.notes.map((n) => [n.from, n.kind])).toEqual([
      ["list:1", "renamed"],
      ["list:2", "not_found"],
      ["list:3", "duplicate"],
    ]);
    expect(l.notes[0]!.detail).toMatch(/acme\/oldname is now acme\/newname/);
  });
});

describe("a GitHub search", () => {
  it("past the 1,000-result cap: split by creation dates until each range fits, every match listed once; a rate limit is waited out and said", async () => {
    // 2,500 repositories created over three years, ten a day on some days.
    const universe: FakeRepo[] = [];
    const start = Date.parse("2021-01-01");
    for (let i = 0; i < 2500; i++) {
      const created = new Date(start + Math.floor(i / 10) * 4 * 86_400_000).toISOString();
      universe.push({
        full_name: `org${i % 7}/repo${i}`,
        created_at: created,
        clone_url: `https://example.test/r${i}.git`,
      });
    }
    const fake = await startFakeSearch(universe, {});
    fakes.push(fake);
    fake.rateLimitOnce = true;
    const waits: string[] = [];
    const api = makeGitHubClient({
      baseUrl: fake.url,
      retryBaseMs: 10,
      searchMinMs: 0,
      onWait: (k, s) => waits.push(`${k} ${s}`),
    });
    const r = await searchRepositories(api, { language: "python", stars: "10" }, { today: "2025-01-01" });
    expect(r.total).toBe(2500);
    expect(r.repos).toHaveLength(2500);
    expect(new Set(r.repos.map((x) => x.name)).size).toBe(2500);
    expect(r.notes[0]).toMatchObject({ kind: "search_split" });
    expect(r.notes[0]!.detail).toMatch(
      /2500 repositories match; the API returns at most 1000 per query: searched in \d+ ranges/,
    );
    expect(waits).toEqual([expect.stringMatching(/^rate limit \d+$/)]);
    // No page past the cap was asked for.
    expect(fake.requests.filter((q) => /page=1[1-9]&|page=[2-9]\d/.test(q))).toEqual([]);
    expect(
      queryText({ language: "go", stars: "10..50", topic: "cli", license: "mit", pushedSince: "2024-01-01" }),
    ).toBe("language:go stars:10..50 pushed:>=2024-01-01 license:mit topic:cli fork:false archived:false");
  });

  it("a single day past the cap is searched for its first 1,000 and named", async () => {
    const universe: FakeRepo[] = Array.from({ length: 1200 }, (_, i) => ({
      full_name: `o/r${i}`,
      created_at: "2022-02-02T10:00:00Z",
      clone_url: `https://example.test/${i}.git`,
    }));
    const fake = await startFakeSearch(universe, {});
    fakes.push(fake);
    const r = await searchRepositories(
      makeGitHubClient({ baseUrl: fake.url, searchMinMs: 0 }),
      { topic: "x" },
      { today: "2022-12-31" },
    );
    expect(r.repos).toHaveLength(1000);
    expect(r.notes.map((n) => n.kind)).toEqual(["search_split", "search_capped"]);
    expect(r.notes[1]!.detail).toMatch(/1200 repositories were created on 2022-02-02 alone/);
  });
});
