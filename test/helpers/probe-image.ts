import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBaseImage } from "../../src/sandbox/base-image.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";

/** A small image for probe tests: the Debian base with /testbed holding a committed `a.py` (x = 1). */
export async function buildProbeImage(sandbox: Sandbox, tag: string): Promise<void> {
  const base = await ensureBaseImage(sandbox);
  const contextDir = mkdtempSync(join(tmpdir(), "sweu-probes-"));
  try {
    const r = await sandbox.build({
      tag,
      contextDir,
      dockerfile: [
        `FROM ${base}`,
        "RUN mkdir /testbed && cd /testbed && printf 'x = 1\\n' > a.py && git init -q && git add -A \\",
        "  && git -c user.email=t@t -c user.name=t commit -qm base",
        "WORKDIR /testbed",
      ].join("\n"),
    });
    if (!r.ok) throw new Error(r.log.slice(-2000));
  } finally {
    rmSync(contextDir, { recursive: true, force: true });
  }
}

/** An evaluation script whose tests "run" as `body`, between the nonce markers unless `markers` is false. */
export const probeScript = (body: string, markers = true) =>
  [
    "#!/bin/bash",
    'nonce="${SWEU_NONCE:-}"; unset SWEU_NONCE',
    markers ? 'echo ">>>>> SWEU TEST OUTPUT START $nonce"' : "",
    body,
    "rc=$?",
    'echo ">>>>> SWEU TEST OUTPUT END $nonce"',
    "exit $rc",
  ].join("\n");
