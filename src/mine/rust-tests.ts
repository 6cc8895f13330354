import type { FileDiff } from "./diff.ts";

/**
 * Rust keeps unit tests inside source files, in `#[cfg(test)] mod … { … }`. Rule for a changed `.rs` file
 * outside tests/ and benches/: when every added line lies inside such a module of the resolved file and
 * every removed line inside such a module of the base file, the file counts as `test`; otherwise (a mixed
 * change, or a change only to code) the whole file counts as `code` and goes to the gold patch.
 * Braces are counted with a light lexer (comments, strings, raw strings, char literals skipped).
 */

/** 1-based inclusive line ranges of `#[cfg(test)]` modules. */
export function cfgTestRanges(source: string): [number, number][] {
  const lines = source.split("\n");
  const ranges: [number, number][] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*#\[cfg\(test\)\]/.test(lines[i]!)) continue;
    // The module header: on the attribute line or within the next few lines (other attributes may sit between).
    let j = i;
    while (j < lines.length && j < i + 5 && !/\bmod\s+\w+\s*\{/.test(lines[j]!)) j++;
    if (j >= lines.length || !/\bmod\s+\w+\s*\{/.test(lines[j]!)) continue;
    const end = closingLine(lines, j);
    if (end === undefined) continue;
    ranges.push([i + 1, end + 1]);
    i = end;
  }
  return ranges;
}

/** Index of the line where the brace opened on line `from` closes. */
function closingLine(lines: string[], from: number): number | undefined {
  let depth = 0;
  let opened = false;
  let inBlock = 0;
  for (let n = from; n < lines.length; n++) {
    const line = lines[n]!.replace(/'(\\.|[^'\\])'/g, "''");
    for (let k = 0; k < line.length; k++) {
      const c = line[k]!;
      const next = line[k + 1];
      if (inBlock > 0) {
        if ((c === "*" && next === "/") || (c === "/" && next === "*")) {
          inBlock += c === "*" ? -1 : 1;
          k++;
        }
        continue;
      }
      if (c === "/" && next === "/") break;
      if (c === "/" && next === "*") {
        inBlock++;
        k++;
      } else if (c === '"' || (c === "r" && (next === '"' || next === "#"))) {
        k = skipString(line, k);
      } else if (c === "{") {
        depth++;
        opened = true;
      } else if (c === "}") {
        depth--;
        if (opened && depth === 0) return n;
      }
    }
  }
  return undefined;
}

/** Skip a (raw) string starting at k on one line; multi-line strings are treated as ending at the line end. */
function skipString(line: string, k: number): number {
  if (line[k] === "r") {
    const m = /^r(#*)"/.exec(line.slice(k));
    if (!m) return k;
    const close = `"${m[1]}`;
    const end = line.indexOf(close, k + m[0].length);
    return end === -1 ? line.length : end + close.length - 1;
  }
  for (let i = k + 1; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === '"') return i;
  }
  return line.length;
}

const inside = (ranges: [number, number][], line: number) => ranges.some(([a, b]) => line >= a && line <= b);

export function onlyTouchesTestModules(
  file: FileDiff,
  base: string | undefined,
  resolved: string | undefined,
) {
  const added = file.hunks.flatMap((h) => h.added);
  const removed = file.hunks.flatMap((h) => h.removed);
  if (added.length + removed.length === 0) return false;
  const newRanges = resolved === undefined ? [] : cfgTestRanges(resolved);
  const oldRanges = base === undefined ? [] : cfgTestRanges(base);
  return added.every((l) => inside(newRanges, l)) && removed.every((l) => inside(oldRanges, l));
}
