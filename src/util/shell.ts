/** Shell quoting, one place for every script we write (Dockerfiles, evaluation scripts, probes, tools). */

/** One argument for bash: left bare when it holds only safe characters, else in single quotes. */
export function q(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : sq(s);
}

/** Always single-quoted: nothing inside expands. */
export function sq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** In double quotes: `$VAR` expands (PATH=/x:$PATH), nothing else does. */
export function shellValue(v: string): string {
  return `"${v.replace(/["\\`]/g, "\\$&")}"`;
}
