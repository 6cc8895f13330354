/** Prints the corpus table for the README: `node test/cli/bad-input/table.ts`. */
import { corpusTable } from "./corpus.ts";

process.stdout.write(`${corpusTable()}\n`);
