/** Bad repositories, datasets, predictions and verifiers, and an outside world that does not answer. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { expect } from "vitest";
import { TestRepo } from "../../helpers/repos.ts";
import { type Case, type Ctx, row, write } from "./harness.ts";

/** Their image is not on the machine and names no registry: evaluate names it and exits 4 (the predictions' files are still written). */
const NO_IMAGE = /^swe-universe: \d+ prediction\(s\) not evaluated: image not found: /;

const mineInto = (repo: (c: Ctx) => string) => (c: Ctx) => [
  "mine",
  repo(c),
  "--run-dir",
  join(c.dir, "new-run"),
];
const noRunMade = (c: Ctx) => expect(existsSync(join(c.dir, "new-run", "store.sqlite"))).toBe(false);

const repoCases: Case[] = [
  ...(["mine", "run"] as const).flatMap((verb): Case[] => {
    const argv = (repo: (c: Ctx) => string) => (c: Ctx) =>
      verb === "mine"
        ? mineInto(repo)(c)
        : ["run", repo(c), "--run-dir", join(c.dir, "new-run"), "--no-progress"];
    return [
      {
        kind: "repository",
        verb,
        name: "a path that does not exist",
        argv: argv((c) => join(c.dir, "nope")),
        code: 3,
        message: /^swe-universe: not a repository: .*nope does not exist/,
        check: noRunMade,
      },
      {
        kind: "repository",
        verb,
        name: "a folder that is not a repository",
        setup: (c) => mkdirSync(join(c.dir, "plain")),
        argv: argv((c) => join(c.dir, "plain")),
        code: 3,
        message: /^swe-universe: not a git repository: /,
        check: noRunMade,
      },
      {
        kind: "repository",
        verb,
        name: "a subfolder of a repository",
        setup: (c) => {
          const r = new TestRepo("sweu-sub-");
          r.commit("Initial", { "pkg/a.py": "x = 1\n" });
          c.vars.sub = join(r.dir, "pkg");
        },
        argv: argv((c) => c.vars.sub!),
        code: 3,
        message: /^swe-universe: .*pkg is a subfolder \(pkg\/\) of the repository at .*: give the top level/,
        check: noRunMade,
      },
      {
        kind: "repository",
        verb,
        name: "--github with a --clone-url that does not exist",
        argv: (c) => [
          verb,
          "acme/widget",
          "--github",
          "--clone-url",
          join(c.dir, "nope"),
          "--run-dir",
          join(c.dir, "new-run"),
        ],
        code: 3,
        message: /^swe-universe: not a repository: .*nope does not exist/,
        check: noRunMade,
      },
    ];
  }),
  {
    kind: "repository",
    verb: "mine",
    name: "a file, not a folder",
    setup: (c) => void write(c, "f.txt", "x"),
    argv: mineInto((c) => join(c.dir, "f.txt")),
    code: 3,
    message: /^swe-universe: not a repository: .*f\.txt does not exist or is not a directory/,
    check: noRunMade,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "a repository without commits",
    setup: (c) => void execFileSync("git", ["init", "-q", join(c.dir, "fresh")]),
    argv: mineInto((c) => join(c.dir, "fresh")),
    code: 3,
    message: /^swe-universe: .*fresh has no commits/,
    check: noRunMade,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "a shallow clone",
    setup: (c) =>
      void execFileSync("git", [
        "clone",
        "-q",
        "--depth",
        "1",
        `file://${c.fx.repo}`,
        join(c.dir, "shallow"),
      ]),
    argv: mineInto((c) => join(c.dir, "shallow")),
    code: 3,
    message: /^swe-universe: .*shallow is a shallow clone/,
    check: noRunMade,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "a clone URL that does not answer",
    argv: mineInto(() => "http://127.0.0.1:1/acme/nothing.git"),
    code: 4,
    message: /^swe-universe: cannot clone http:\/\/127\.0\.0\.1:1\/acme\/nothing\.git/,
    check: noRunMade,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "a clone URL without owner/name",
    argv: mineInto(() => "file:///"),
    code: 2,
    message: /^swe-universe: cannot tell owner\/name from file:\/\/\/; pass --repo-name/,
    check: noRunMade,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "no merged PRs in the history (a note, exit 0)",
    argv: mineInto((c) => c.fx.other),
    code: 0,
    message: /^swe-universe: note: no merged pull requests found in the history of local\/sweu-other-/,
    changes: true,
  },
  {
    kind: "repository",
    verb: "mine",
    name: "file names that are not UTF-8: a named rejection, no U+FFFD",
    setup: (c) => {
      const r = new TestRepo("sweu-latin1-");
      r.commit("Initial", { "src/a.py": "x = 1\n" });
      r.git("checkout", "-q", "-b", "feature");
      writeFileSync(Buffer.from(join(r.dir, "src/caf\xe9.py"), "latin1"), "y = 2\n");
      writeFileSync(join(r.dir, "src/a.py"), "x = 2\n");
      mkdirSync(join(r.dir, "tests"));
      writeFileSync(join(r.dir, "tests/test_a.py"), "def test_a(): pass\n");
      r.git("add", "-A");
      r.git("commit", "-q", "-m", "Add café");
      r.git("checkout", "-q", "main");
      r.git("merge", "-q", "--no-ff", "feature", "-m", "Merge pull request #2 from dev/feature\n\nAdd café");
      c.vars.latin1 = r.dir;
    },
    argv: (c) => ["mine", c.vars.latin1!, "--run-dir", join(c.dir, "new-run"), "--json"],
    code: 0,
    lines: 0,
    message: /^$/,
    changes: true,
    check: (c, r) => {
      expect(JSON.parse(r.stdout).rejections).toEqual({ undecodable_diff: 1 });
      const db = new Database(join(c.dir, "new-run", "store.sqlite"), { readonly: true });
      const data = (db.prepare("SELECT data FROM records").all() as { data: string }[]).map((x) => x.data);
      db.close();
      expect(data.join("\n")).not.toContain("\ufffd");
      expect(data.join("\n")).toContain("caf\\\\x{E9}.py");
    },
  },
];

const evalArgs =
  (dataset: (c: Ctx) => string, predictions: (c: Ctx) => string, ...extra: string[]) =>
  (c: Ctx) => [
    "evaluate",
    "--dataset",
    dataset(c),
    "--predictions",
    predictions(c),
    "--out",
    join(c.dir, "out"),
    "--run-id",
    "r1",
    ...extra,
  ];
const ds = (c: Ctx) => c.fx.dataset;
const file = (name: string) => (c: Ctx) => join(c.dir, name);
const pred = (id: string, model = "m", patch: string | null = "") =>
  JSON.stringify({ instance_id: id, model_name_or_path: model, model_patch: patch });
/** The dataset instance with another id. */
const datasetWithId = (c: Ctx, id: string) =>
  write(
    c,
    "ds.jsonl",
    `${row({ ...c.fx.instance, instance_id: id, image: "localhost/sweu-corpus-missing:none" })}\n`,
  );
const outHolds = (c: Ctx) => readdirSync(join(c.dir, "out"), { recursive: true }).map(String).sort();

const datasetCases: Case[] = [
  ["the file does not exist", () => undefined, file("none.jsonl"), /dataset not found: /],
  [
    "a folder without dataset.jsonl",
    (c: Ctx) => mkdirSync(join(c.dir, "dsdir")),
    file("dsdir"),
    /no dataset\.jsonl in /,
  ],
  [
    "a line that is not JSON",
    (c: Ctx) => write(c, "ds.jsonl", "{not json\n"),
    file("ds.jsonl"),
    /ds\.jsonl:1: not valid JSON/,
  ],
  [
    "a row without its fields",
    (c: Ctx) => write(c, "ds.jsonl", '{"instance_id":"x"}\n'),
    file("ds.jsonl"),
    /ds\.jsonl:1/,
  ],
  [
    "a duplicate instance_id",
    (c: Ctx) => write(c, "ds.jsonl", `${row(c.fx.instance)}\n${row(c.fx.instance)}\n`),
    file("ds.jsonl"),
    /duplicate instance_id/,
  ],
  [
    "a JSON list that is not closed",
    (c: Ctx) => write(c, "ds.jsonl", "[{"),
    file("ds.jsonl"),
    /not valid JSON/,
  ],
].map(([name, setup, dataset, message]) => ({
  kind: "dataset" as const,
  verb: "evaluate",
  name: name as string,
  setup: setup as (c: Ctx) => void,
  argv: evalArgs(dataset as (c: Ctx) => string, () => "gold"),
  code: 3,
  message: new RegExp(`^swe-universe: .*${(message as RegExp).source}`),
  check: (c: Ctx) => expect(existsSync(join(c.dir, "out"))).toBe(false),
}));

datasetCases.push(
  {
    kind: "dataset",
    verb: "evaluate",
    name: "a UTF-8 BOM is read",
    setup: (c) => {
      write(c, "ds.jsonl", `\ufeff${row(c.fx.instance)}\n`);
      write(c, "p.jsonl", `${pred("nobody-1")}\n`);
    },
    argv: evalArgs(file("ds.jsonl"), file("p.jsonl")),
    code: 3,
    // Read past the BOM: the dataset loads and the one prediction names none of it.
    message: /^swe-universe: no prediction names an instance of the dataset$/,
  },
  {
    kind: "dataset",
    verb: "evaluate",
    name: "an instance_id that climbs out of --out",
    setup: (c) => void datasetWithId(c, "../../../escaped-instance"),
    argv: evalArgs(file("ds.jsonl"), () => "gold"),
    code: 4,
    lines: 2,
    message: NO_IMAGE,
    check: (c) => {
      const files = outHolds(c);
      expect(files.some((f) => f.endsWith("report.json"))).toBe(true);
      expect(files.every((f) => f.startsWith("r1") || f === "gold.r1.json")).toBe(true);
    },
  },
  {
    kind: "dataset",
    verb: "evaluate",
    name: "an instance_id with a slash and a NUL-free 300-character tail",
    setup: (c) => void datasetWithId(c, `a/${"x".repeat(300)}`),
    argv: evalArgs(file("ds.jsonl"), () => "gold"),
    code: 4,
    lines: 2,
    message: NO_IMAGE,
    check: (c) => expect(outHolds(c).some((f) => f.endsWith("report.json"))).toBe(true),
  },
);

const predictionCases: Case[] = [
  [
    "the predictions file does not exist",
    () => undefined,
    /predictions not found: .*none\.jsonl \(expected a file, "gold" or "empty"\)/,
  ],
  [
    "a predictions line that is not JSON",
    (c: Ctx) => write(c, "p.jsonl", "nope\n"),
    /p\.jsonl:1: not valid JSON/,
  ],
  [
    "no model_patch",
    (c: Ctx) =>
      write(c, "p.jsonl", `{"instance_id":"${c.fx.instance.instance_id}","model_name_or_path":"m"}\n`),
    /p\.jsonl:1: invalid prediction: 'model_patch'/,
  ],
  [
    "an empty model name",
    (c: Ctx) => write(c, "p.jsonl", `${pred(c.fx.instance.instance_id, "")}\n`),
    /invalid prediction: 'model_name_or_path'/,
  ],
  [
    "the same model twice for one instance",
    (c: Ctx) =>
      write(c, "p.jsonl", `${pred(c.fx.instance.instance_id)}\n${pred(c.fx.instance.instance_id)}\n`),
    /p\.jsonl:2: duplicate prediction of m for /,
  ],
  [
    "only instances the dataset lacks",
    (c: Ctx) => write(c, "p.jsonl", `${pred("acme__other-1")}\n`),
    /no prediction names an instance of the dataset/,
  ],
  [
    "a BOM, then only unknown instances",
    (c: Ctx) => write(c, "p.jsonl", `\ufeff${pred("acme__other-1")}\n`),
    /no prediction names an instance of the dataset/,
  ],
  ["an empty file", (c: Ctx) => write(c, "p.jsonl", ""), /no prediction names an instance of the dataset/],
].map(([name, setup, message]) => ({
  kind: "predictions" as const,
  verb: "evaluate",
  name: name as string,
  setup: setup as (c: Ctx) => void,
  argv: evalArgs(ds, (c) =>
    name === "the predictions file does not exist" ? join(c.dir, "none.jsonl") : join(c.dir, "p.jsonl"),
  ),
  code: 3,
  message: new RegExp(`^swe-universe: .*${(message as RegExp).source}`),
  check: (c: Ctx) => expect(existsSync(join(c.dir, "out"))).toBe(false),
}));

const missingImage = (c: Ctx) => datasetWithId(c, c.fx.instance.instance_id);
predictionCases.push(
  {
    kind: "predictions",
    verb: "evaluate",
    name: "--instance-ids naming an instance the dataset lacks",
    argv: evalArgs(ds, () => "gold", "--instance-ids", "acme__nobody-9"),
    code: 3,
    message: /^swe-universe: not in the dataset: acme__nobody-9$/,
  },
  {
    kind: "predictions",
    verb: "evaluate",
    name: "a 300-character model name (report written, no ENAMETOOLONG)",
    setup: (c) => {
      missingImage(c);
      write(c, "p.jsonl", `${pred(c.fx.instance.instance_id, `org/${"m".repeat(300)}`)}\n`);
    },
    argv: evalArgs(file("ds.jsonl"), file("p.jsonl")),
    code: 4,
    message: NO_IMAGE,
    lines: 2,
    check: (c, r) => {
      expect(r.stdout).toMatch(/0\/1 resolved/);
      expect(outHolds(c).filter((f) => f.endsWith("report.json"))).toHaveLength(1);
    },
  },
  {
    kind: "predictions",
    verb: "evaluate",
    name: "two models for one instance: both evaluated",
    setup: (c) => {
      missingImage(c);
      const id = c.fx.instance.instance_id;
      write(c, "p.jsonl", `${pred(id, "model-a")}\n${pred(id, "model-b")}\n`);
    },
    argv: evalArgs(file("ds.jsonl"), file("p.jsonl")),
    code: 4,
    lines: 3,
    message: NO_IMAGE,
    check: (c) => {
      const files = outHolds(c);
      for (const m of ["model-a", "model-b"]) {
        expect(files).toContain(`${m}.r1.json`);
        expect(files).toContain(`r1/${m}/${c.fx.instance.instance_id}/report.json`);
      }
    },
  },
  {
    kind: "predictions",
    verb: "evaluate",
    name: "a second run id keeps the first run's reports",
    setup: async (c) => {
      missingImage(c);
      const { cli } = await import("./harness.ts");
      const first = await cli(evalArgs(file("ds.jsonl"), () => "gold")(c), { cwd: c.dir });
      if (first.code !== 4) throw new Error(first.stderr);
    },
    argv: (c) => [...evalArgs(file("ds.jsonl"), () => "gold")(c).slice(0, -2), "--run-id", "r2"],
    code: 4,
    lines: 2,
    message: NO_IMAGE,
    check: (c) => {
      const files = outHolds(c);
      for (const run of ["r1", "r2"]) {
        expect(files).toContain(`gold.${run}.json`);
        expect(files).toContain(`${run}/gold/${c.fx.instance.instance_id}/report.json`);
      }
    },
  },
);

const taskJson = (c: Ctx, content: string, script = "#!/bin/bash\npytest tests\n") => {
  write(c, "inst/task.json", content);
  if (script !== "") write(c, "inst/evaluation.sh", script);
};
const verifierCases: Case[] = [
  [
    "no task.json",
    (c: Ctx) => mkdirSync(join(c.dir, "inst")),
    /inst has no task\.json \(expected an instance or task folder\)/,
  ],
  ["task.json is null", (c: Ctx) => taskJson(c, "null"), /task\.json holds null, not a task/],
  ["task.json is []", (c: Ctx) => taskJson(c, "[]"), /task\.json holds a list, not a task/],
  ["task.json is a number", (c: Ctx) => taskJson(c, "42"), /task\.json holds a number, not a task/],
  ["task.json is not JSON", (c: Ctx) => taskJson(c, "{"), /task\.json is not JSON: /],
  [
    "task.json lacks instance_id",
    (c: Ctx) => taskJson(c, '{"patch":"x"}'),
    /task\.json lacks instance_id or patch/,
  ],
  [
    "an empty evaluation.sh",
    (c: Ctx) => taskJson(c, JSON.stringify({ instance_id: "a-1", patch: "p" }), "\n"),
    /the verifier .*evaluation\.sh is empty/,
  ],
  [
    "no evaluation.sh at all",
    (c: Ctx) => taskJson(c, JSON.stringify({ instance_id: "a-1", patch: "p" }), ""),
    /no verifier: .*inst has no evaluation\.sh; pass --script FILE/,
  ],
].map(([name, setup, message]) => ({
  kind: "verifier" as const,
  verb: "check-verifier",
  name: name as string,
  setup: setup as (c: Ctx) => void,
  argv: (c: Ctx) => ["check-verifier", join(c.dir, "inst")],
  code: 3,
  message: new RegExp(`^swe-universe: .*${(message as RegExp).source}`),
}));
verifierCases.push(
  {
    kind: "verifier",
    verb: "check-verifier",
    name: "--script names a missing file",
    setup: (c) => taskJson(c, JSON.stringify({ instance_id: "a-1", patch: "p" })),
    argv: (c) => ["check-verifier", join(c.dir, "inst"), "--script", join(c.dir, "gone.sh")],
    code: 3,
    message: /^swe-universe: .*gone\.sh/,
  },
  {
    kind: "verifier",
    verb: "check-verifier",
    name: "--image that does not exist",
    setup: (c) => taskJson(c, JSON.stringify({ instance_id: "a-1", patch: "p" })),
    argv: (c) => ["check-verifier", join(c.dir, "inst"), "--image", "localhost/sweu-corpus-missing:none"],
    code: 3,
    message: /^swe-universe: image not found: localhost\/sweu-corpus-missing:none/,
  },
);

const serveArgs =
  (dataset: (c: Ctx) => string, ...extra: string[]) =>
  (c: Ctx) => ["serve", "--dataset", dataset(c), "--token", "t", "--port", "0", ...extra];

/** `serve` refuses what it cannot serve before it listens (it would otherwise never exit). */
const serveCases: Case[] = [
  {
    kind: "usage",
    verb: "serve",
    name: "no token (no --token, SWEU_SERVE_TOKEN empty)",
    env: { SWEU_SERVE_TOKEN: "" },
    argv: (c) => ["serve", "--dataset", c.fx.dataset, "--port", "0"],
    code: 2,
    message: /^swe-universe: a token is required: --token or SWEU_SERVE_TOKEN$/,
  },
  {
    kind: "dataset",
    verb: "serve",
    name: "the dataset does not exist",
    argv: serveArgs(file("none.jsonl")),
    code: 3,
    message: /^swe-universe: dataset not found: .*none\.jsonl/,
  },
  {
    kind: "dataset",
    verb: "serve",
    name: "a dataset line that is not JSON",
    setup: (c) => void write(c, "ds.jsonl", "{not json\n"),
    argv: serveArgs(file("ds.jsonl")),
    code: 3,
    message: /^swe-universe: .*ds\.jsonl:1: not valid JSON/,
  },
  {
    kind: "dataset",
    verb: "serve",
    name: "one instance in two datasets",
    setup: (c) => void write(c, "ds.jsonl", `${row(c.fx.instance)}\n`),
    argv: (c) => ["serve", "--dataset", c.fx.dataset, join(c.dir, "ds.jsonl"), "--token", "t", "--port", "0"],
    code: 3,
    message: /^swe-universe: instance .* is in both /,
  },
  {
    kind: "dataset",
    verb: "serve",
    name: "--prewarm names an instance the dataset lacks",
    argv: serveArgs(ds, "--prewarm", "acme__nobody-1"),
    code: 3,
    message: /^swe-universe: --prewarm names no instance of the dataset: acme__nobody-1$/,
  },
  {
    kind: "outside",
    verb: "serve",
    name: "--redis to a port where nothing listens",
    env: { SWEU_REDIS_WAIT: "1" },
    argv: serveArgs(ds, "--redis", "redis://127.0.0.1:1"),
    code: 4,
    message: /^swe-universe: Redis at redis:\/\/127\.0\.0\.1:1 does not answer .*gave up after 1 s/,
  },
  {
    kind: "outside",
    verb: "serve",
    name: "--sandbox docker with no docker daemon",
    argv: serveArgs(ds, "--sandbox", "docker"),
    env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    code: 4,
    message: /^swe-universe: container engine docker unavailable: /,
  },
];

const outsideCases: Case[] = [
  {
    kind: "outside",
    verb: "run",
    name: "--redis to a port where nothing listens",
    env: { SWEU_REDIS_WAIT: "1" },
    argv: (c) => ["run", c.fx.repo, "--run-dir", join(c.dir, "new-run"), "--redis", "redis://127.0.0.1:1"],
    code: 4,
    message:
      /^swe-universe: Redis at redis:\/\/127\.0\.0\.1:1 does not answer \(.*ECONNREFUSED.*\); gave up after 1 s/,
    check: (c) => expect(existsSync(join(c.dir, "new-run"))).toBe(false),
  },
  ...(["build", "validate", "push"] as const).map(
    (verb): Case => ({
      kind: "outside",
      verb,
      name: "--sandbox docker with no docker daemon",
      argv: (c) => [
        verb,
        "--run-dir",
        c.run,
        "--sandbox",
        "docker",
        ...(verb === "push" ? ["--registry", "127.0.0.1:1/x"] : []),
      ],
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
      code: 4,
      message: /^swe-universe: container engine docker unavailable: /,
    }),
  ),
  {
    kind: "outside",
    verb: "evaluate",
    name: "--sandbox docker with no docker daemon",
    argv: evalArgs(ds, () => "gold", "--sandbox", "docker"),
    env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    code: 4,
    message: /^swe-universe: container engine docker unavailable: /,
    check: (c) => expect(existsSync(join(c.dir, "out"))).toBe(false),
  },
];

export const inputCases: Case[] = [
  ...repoCases,
  ...datasetCases,
  ...predictionCases,
  ...verifierCases,
  ...outsideCases,
  ...serveCases,
];
