import pino from "pino";

/** Structured logs go to stderr so stdout stays for results (--json). Level from SWEU_LOG (default warn). */
export const log = pino(
  { level: process.env.SWEU_LOG ?? "warn", base: undefined },
  pino.destination({ dest: 2, sync: true }),
);
