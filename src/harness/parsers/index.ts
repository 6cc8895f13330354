import { parseJunit } from "../junit.ts";
import { parseAutomake } from "./automake.ts";
import { parseCargo } from "./cargo.ts";
import { parseGoTest, parseGoTestJson } from "./go.ts";
import { parseJest, parseMocha, parseVitest } from "./js.ts";
import { parseCtest, parseGtest } from "./native.ts";
import { parseNextest } from "./nextest.ts";
import { parseNodeSpec } from "./node-spec.ts";
import { parsePytest, parseUnittest } from "./python.ts";
import { parseTap } from "./tap.ts";
import type { LogParser } from "./types.ts";
import { parseCatch2, parseMaven, parseTrx } from "./xml-reports.ts";

export type { LogParser } from "./types.ts";

/**
 * Log parsers keyed by the name an Instance records in `parser`. Every parser returns [] when it finds no
 * test in the log; callers must treat that as "unparsed", never as a pass.
 */
const PARSERS: Record<string, LogParser> = {
  pytest: parsePytest,
  unittest: parseUnittest,
  jest: parseJest,
  vitest: parseVitest,
  mocha: parseMocha,
  tap: parseTap,
  "node-spec": parseNodeSpec,
  "go-test-json": parseGoTestJson,
  "go-test": parseGoTest,
  cargo: parseCargo,
  nextest: parseNextest,
  maven: parseMaven,
  junit: (log) => parseJunit(log),
  gtest: parseGtest,
  catch2: parseCatch2,
  ctest: parseCtest,
  automake: parseAutomake,
  "dotnet-trx": parseTrx,
};

export function parserNames(): string[] {
  return Object.keys(PARSERS);
}

export function hasParser(name: string): boolean {
  return Object.hasOwn(PARSERS, name);
}

export function getParser(name: string): LogParser {
  const p = hasParser(name) ? PARSERS[name] : undefined;
  if (!p) throw new Error(`unknown log parser "${name}"; known: ${parserNames().join(", ")}`);
  return p;
}
