#!/usr/bin/env bash
# The whole test suite: set-up, type check, lint, then vitest (real git, real containers, real Redis).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SWEU_SETUP_TEST=1
# Plain output so CI reads the runner's summary lines.
export NO_COLOR=1
unset FORCE_COLOR
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
echo "== typecheck"; node_modules/.bin/tsc --noEmit -p .
echo "== lint"; node_modules/.bin/biome check src test bench
echo "== import cycles"
cycles="$(node_modules/.bin/depcruise --validate .dependency-cruiser.cjs src 2>&1)" || { echo "$cycles"; exit 1; }
echo "$cycles" | grep "dependency violations"
echo "== tests"; node_modules/.bin/vitest run "$@"
