/** The last n characters of a log: that is where it says how it ended. */
export function tail(s: string, n = 4000): string {
  return s.length > n ? s.slice(-n) : s;
}
