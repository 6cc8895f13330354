/**
 * The output contract between evaluation.sh and whoever reads it (validation, the harness).
 *
 * evaluation.sh prints its test output between fixed markers that carry a per-run nonce. The runner hands
 * it over as the shell variable SWEU_NONCE (read from a file it deletes at once, never exported), and the
 * script unsets it before the tests run, so no test process can learn it and print a fake section.
 * JUnit XML reports, where the runner writes them, are printed in their own sections. The exit code that
 * counts is the process's own, never one printed in the log.
 */

/** What every marker line of ours starts with (a reader that skips them needs no more). */
export const MARK_PREFIX = ">>>>> SWEU ";

export const MARK = {
  testStart: (nonce: string) => `${MARK_PREFIX}TEST OUTPUT START ${nonce}`,
  testEnd: (nonce: string) => `${MARK_PREFIX}TEST OUTPUT END ${nonce}`,
  junitStart: (nonce: string) => `${MARK_PREFIX}JUNIT START ${nonce}`,
  junitEnd: (nonce: string) => `${MARK_PREFIX}JUNIT END ${nonce}`,
} as const;

export interface Sections {
  /** Text between the test-output markers; undefined when the markers are missing. */
  testOutput: string | undefined;
  /** Each JUnit XML document printed by the script. */
  junit: string[];
}

function between(
  log: string,
  start: string,
  end: string,
  from = 0,
): { text: string; next: number } | undefined {
  const s = log.indexOf(start, from);
  if (s < 0) return undefined;
  const bodyStart = log.indexOf("\n", s);
  if (bodyStart < 0) return undefined;
  const e = log.indexOf(end, bodyStart);
  if (e < 0) return undefined;
  return { text: log.slice(bodyStart + 1, e), next: e + end.length };
}

export function extractSections(log: string, nonce: string): Sections {
  const test = between(log, MARK.testStart(nonce), MARK.testEnd(nonce));
  const junit: string[] = [];
  let from = 0;
  for (;;) {
    const j = between(log, MARK.junitStart(nonce), MARK.junitEnd(nonce), from);
    if (!j) break;
    if (j.text.trim()) junit.push(j.text);
    from = j.next;
  }
  return { testOutput: test?.text, junit };
}

export function newNonce(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}
