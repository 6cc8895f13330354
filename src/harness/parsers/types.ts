import type { TestResult } from "../../records/index.ts";

/** A log parser reads a runner's console output (between the test markers) into per-test results. */
export type LogParser = (log: string) => TestResult[];
