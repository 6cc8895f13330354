import type { CheckVerdict } from "../records/index.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";

/** Added lines shorter than this (trimmed) are too common to say anything ("}", "return x"). */
const MIN_LINE = 24;
/** At most this many lines are looked for (the longest first). */
const MAX_LINES = 40;
/** A match inside another package is a copy of the fix only from this many lines and half the fix on. */
const OTHER_PACKAGE_MIN_LINES = 3;

/** The gold patch's added lines that could identify the fix: long enough, trimmed, distinct. */
export function distinctiveLines(patch: string): string[] {
  const lines = new Set<string>();
  for (const line of patch.split("\n")) {
    if (!line.startsWith("+") || line.startsWith("+++ ")) continue;
    const t = line.slice(1).trim();
    if (t.length >= MIN_LINE) lines.add(t);
  }
  return [...lines].sort((a, b) => b.length - a.length).slice(0, MAX_LINES);
}

/** Where a file found in the image lives: the repository's own build output, or an installed package. */
export type Place =
  | { kind: "build" }
  | { kind: "package"; ecosystem: "node" | "python" | "go" | "cargo" | "maven"; name: string };

/** Installed-package layouts, a table: the first pattern that matches a path names the package. */
const PACKAGE_PLACES: { ecosystem: Extract<Place, { kind: "package" }>["ecosystem"]; at: RegExp }[] = [
  // the innermost node_modules/<name> or node_modules/@scope/<name>
  { ecosystem: "node", at: /.*node_modules\/((?:@[^/]+\/)?[^/]+)/ },
  { ecosystem: "python", at: /(?:site|dist)-packages\/([^/]+)/ },
  // the Go module cache (pkg/mod/<path>@<version>/…) and vendored modules
  { ecosystem: "go", at: /pkg\/mod\/(.+?)@[^/]+/ },
  { ecosystem: "go", at: /^(?:\.\/)?vendor\/((?:[^/]+\/){2}[^/]+)/ },
  // the Cargo registry's unpacked crates (registry/src/<index>/<crate>-<version>/…) and `cargo vendor`
  { ecosystem: "cargo", at: /registry\/src\/[^/]+\/(.+?)-\d[^/]*\// },
  { ecosystem: "maven", at: /\.m2\/repository\/(?:.+\/)?([^/]+)\/[^/]+\/[^/]+$/ },
];

/** A package name as the ecosystems compare them (PEP 503 for Python; Go's !x escapes and /vN undone). */
export function normName(name: string): string {
  const n = name
    .replace(/!([a-z])/g, (_, c: string) => c.toUpperCase())
    .replace(/\.(dist-info|egg-info)$/, "")
    .replace(/-\d[\w.+]*$/, "")
    .replace(/\.py$/, "")
    .replace(/\/v\d+$/, "")
    .toLowerCase();
  // A Go module path keeps its dots (github.com/…); other names compare with -, _ and . alike.
  return /^[^@][^/]*\.[^/]*\//.test(n) ? n : n.replace(/[-_.]+/g, "-");
}

/** Where a file found by the search lives. */
export function placeOf(path: string): Place {
  for (const p of PACKAGE_PLACES) {
    const m = p.at.exec(path);
    if (m) return { kind: "package", ecosystem: p.ecosystem, name: m[1]! };
  }
  return { kind: "build" };
}

/** Whether an installed package is the repository's own (its name, a Go module at or below its own). */
export function isOwnPackage(place: Extract<Place, { kind: "package" }>, own: readonly string[]): boolean {
  const name = normName(place.name);
  return own.some((o) => {
    const n = normName(o);
    return place.ecosystem === "go"
      ? name === n || name.startsWith(`${n}/`) || n.startsWith(`${name}/`)
      : name === n;
  });
}

/** Shell printing the repository's own package names from its manifests, one `SWEU-LEAK-OWN <name>` each. */
const OWN_NAMES = [
  `grep -m1 -o '"name"[[:space:]]*:[[:space:]]*"[^"]*"' package.json 2>/dev/null | sed 's/.*"\\([^"]*\\)"$/\\1/'`,
  `grep -E -m1 '^[[:space:]]*name[[:space:]]*=' pyproject.toml setup.cfg 2>/dev/null | sed -E 's/^[^=]*=[[:space:]]*["'"'"']?([^"'"'"' ]+).*/\\1/'`,
  `grep -E -o -m1 'name[[:space:]]*=[[:space:]]*["'"'"'][^"'"'"']+' setup.py 2>/dev/null | sed -E 's/.*["'"'"']//'`,
  "sed -n 's/^module[[:space:]]\\{1,\\}\\([^[:space:]]*\\).*/\\1/p' go.mod 2>/dev/null",
  `find . -maxdepth 3 -name Cargo.toml -not -path './target/*' 2>/dev/null | xargs -r sed -n '/^\\[package\\]/,/^\\[/s/^name[[:space:]]*=[[:space:]]*"\\([^"]*\\)".*/\\1/p'`,
  "sed '/<parent>/,/<\\/parent>/d' pom.xml 2>/dev/null | grep -m1 -o '<artifactId>[^<]*' | sed 's/<artifactId>//'",
]
  .map((c) => `{ ${c}; } | sed 's/^/SWEU-LEAK-OWN /'`)
  .join("\n");

/**
 * Where the search looks: what git does not track in /testbed (untracked and ignored files, whole ignored
 * folders: build output, caches, node_modules, .venv, target/, vendor/), the interpreters' installed
 * packages, the Go module cache, the Cargo registry and the local Maven repository.
 */
const WHERE = [
  "{ git ls-files -z --others --directory --no-empty-directory --exclude-standard",
  "git ls-files -z --others --directory --no-empty-directory --ignored --exclude-standard",
  "for d in /usr/local/lib/python3*/site-packages /usr/lib/python3/dist-packages /opt/venv/lib/python3*/site-packages \\",
  '  "${GOMODCACHE:-${GOPATH:-/root/go}/pkg/mod}" "${CARGO_HOME:-/root/.cargo}/registry/src" /usr/local/cargo/registry/src /root/.m2/repository; do',
  '  [ -d "$d" ] && printf \'%s\\0\' "$d"',
  "done; } 2>/dev/null",
].join("\n");

/** One hit of the search: a file and the fix's line found in it. */
export interface LeakHit {
  file: string;
  line: string;
}

/** Reads `SWEU-LEAK-HIT <file>:<line>` output back into hits (the line is one of ours, so it ends the text). */
export function parseHits(output: string, lines: readonly string[]): LeakHit[] {
  const hits: LeakHit[] = [];
  for (const m of output.matchAll(/^SWEU-LEAK-HIT (.+)$/gm)) {
    const text = m[1]!;
    const line = lines.find((l) => text.endsWith(`:${l}`));
    if (line) hits.push({ file: text.slice(0, text.length - line.length - 1), line });
  }
  return hits;
}

/**
 * Weigh the hits: the repository's own code (build output, its own package installed from a registry at
 * another version) holding at least two of the fix's lines (or its only one) is a leak; a match inside
 * another package is evidence, and a leak only when one package holds a good part of the fix (three lines
 * and half of them: a vendored copy under another name), since one line of data (a locale string a
 * compared-against library also has) is not a fix.
 */
export function weighHits(
  hits: readonly LeakHit[],
  total: number,
  own: readonly string[],
): { passed: boolean; reason: string } {
  const ownLines = new Set<string>();
  const ownFiles = new Set<string>();
  const others = new Map<string, { lines: Set<string>; files: Set<string> }>();
  for (const h of hits) {
    const place = placeOf(h.file);
    if (place.kind === "build" || isOwnPackage(place, own)) {
      ownLines.add(h.line);
      ownFiles.add(h.file);
      continue;
    }
    const key = `${place.ecosystem}:${place.name}`;
    const o = others.get(key) ?? { lines: new Set(), files: new Set() };
    o.lines.add(h.line);
    o.files.add(h.file);
    others.set(key, o);
  }
  const list = (s: Set<string>) => [...s].slice(0, 10).join(", ") + (s.size > 10 ? ", …" : "");
  if (ownLines.size >= Math.min(2, total))
    return {
      passed: false,
      reason: `${ownLines.size} of the fix's ${total} distinctive added lines are already in the repository's own code outside the tracked files (build output or its own installed package): ${list(ownFiles)}`,
    };
  const ranked = [...others].sort((a, b) => b[1].lines.size - a[1].lines.size);
  const top = ranked[0];
  if (top && top[1].lines.size >= OTHER_PACKAGE_MIN_LINES && top[1].lines.size * 2 >= total)
    return {
      passed: false,
      reason: `${top[1].lines.size} of the fix's ${total} distinctive added lines are in another package, ${top[0]} (a copy of the fix): ${list(top[1].files)}`,
    };
  const notes: string[] = [];
  if (ownLines.size)
    notes.push(
      `1 of ${total} distinctive added lines found in the repository's own untracked files (${list(ownFiles)}): too little to call a leak`,
    );
  if (ranked.length)
    notes.push(
      `evidence, not a leak: lines of the fix also occur in other packages (${ranked
        .slice(0, 5)
        .map(([k, v]) => `${k}: ${v.lines.size} of ${total}`)
        .join("; ")}), too little of the fix to be a copy of it`,
    );
  return {
    passed: true,
    reason: notes.length
      ? notes.join("; ")
      : `none of the fix's ${total} distinctive added lines is in the image outside the tracked files`,
  };
}

/**
 * The leak probe: in a fresh container of the instance's image, before any patch, look for the gold
 * patch's distinctive added lines where the repository's own code can hide outside the tracked files: build
 * output such as dist/ or *.egg-info, caches, and the repository's own package in site-packages,
 * node_modules, the Go module cache, the Cargo registry or the local Maven repository (an environment image
 * built or reused from another commit, or a dependency that pulls in a later release of the project itself,
 * hands the fix to whoever looks). Lines that already occur in the tracked files at the base commit say
 * nothing and are left out. Matches are weighed by where they are and how much of the fix they cover
 * (weighHits).
 */
export async function leakProbe(
  task: { patch: string; repo?: string },
  o: { sandbox: Sandbox; image: string; timeoutMs?: number },
): Promise<CheckVerdict> {
  const verdict = (passed: boolean, reasons: string[]): CheckVerdict => ({
    check: "leak-probe",
    kind: "leak",
    passed,
    reasons,
  });
  const lines = distinctiveLines(task.patch);
  if (!lines.length) return verdict(true, ["not applicable: the fix adds no distinctive line"]);
  const c = await o.sandbox.start({ image: o.image, network: false, labels: { "sweu.role": "leak-probe" } });
  try {
    await c.writeFile("/tmp/sweu-lines", `${lines.join("\n")}\n`);
    // Drop lines the base commit already has; then search where the repository's code can hide.
    const script = [
      "cd /testbed || exit 3",
      "git grep -hoF -f /tmp/sweu-lines HEAD -- . 2>/dev/null | sort -u > /tmp/sweu-known",
      "grep -vxF -f /tmp/sweu-known /tmp/sweu-lines > /tmp/sweu-new || true",
      '[ -s /tmp/sweu-new ] || { echo "SWEU-LEAK-NONE"; exit 0; }',
      "echo SWEU-LEAK-LINES $(wc -l < /tmp/sweu-new)",
      OWN_NAMES,
      `${WHERE} | xargs -0 -r grep -rIHoF -f /tmp/sweu-new -- 2>/dev/null | sort -u | head -20000 | sed 's/^/SWEU-LEAK-HIT /'`,
      "echo SWEU-LEAK-DONE",
    ].join("\n");
    const r = await c.exec(script, { timeoutMs: o.timeoutMs ?? 300_000 });
    if (r.timedOut) return verdict(true, ["inconclusive: the search timed out"]);
    if (r.output.includes("SWEU-LEAK-NONE"))
      return verdict(true, [
        "not applicable: every distinctive line of the fix is already in the base commit",
      ]);
    const total = Number(/SWEU-LEAK-LINES (\d+)/.exec(r.output)?.[1] ?? Number.NaN);
    if (!Number.isFinite(total) || !r.output.includes("SWEU-LEAK-DONE"))
      return verdict(false, [`the search could not run (exit ${r.exitCode}): ${r.output.slice(-500)}`]);
    const own = [...r.output.matchAll(/^SWEU-LEAK-OWN (\S+)\s*$/gm)].map((m) => m[1]!);
    if (task.repo) own.push(task.repo.split("/")[1]!);
    const w = weighHits(parseHits(r.output, lines), total, own);
    return verdict(w.passed, [w.reason]);
  } finally {
    await c.remove();
  }
}
