#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: system packages, Node 24, npm dependencies.
# Sourced by bin/swe-universe and scripts/test.sh; prints only when it has something to do.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/.tools/node24"
NODE_MAJOR=24

say() { echo "[setup] $*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $*"; return 1; fi
}

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { say "apt-get not found; install by hand: ${missing[*]}"; return 1; }
  say "installing system packages: ${missing[*]}"
  if [ $APT_UPDATED = 0 ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# 1. System packages. A container engine: Docker if its daemon answers, else Podman (+runc).
BASE_PKGS=(git ca-certificates)
if ! (command -v docker >/dev/null && docker info >/dev/null 2>&1); then
  BASE_PKGS+=(podman runc uidmap fuse-overlayfs)
fi
# debootstrap builds a base image where no registry answers.
BASE_PKGS+=(debootstrap)
# chromium: CI renders the HTML report in it (headless, driven by playwright-core).
if [ "${SWEU_SETUP_TEST:-0}" = 1 ]; then BASE_PKGS+=(redis-server python3 python3-venv docker-registry chromium); fi
apt_install "${BASE_PKGS[@]}"

# 2. Node 24 LTS. The system Node may be older; the npm package node@24 carries a real binary.
node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if [ -x "$NODE_DIR/node_modules/node/bin/node" ] && [ "$(node_major "$NODE_DIR/node_modules/node/bin/node")" -ge $NODE_MAJOR ]; then
  export PATH="$NODE_DIR/node_modules/node/bin:$PATH"
elif command -v node >/dev/null && [ "$(node_major node)" -ge $NODE_MAJOR ]; then
  :
else
  command -v npm >/dev/null || apt_install nodejs npm
  say "installing Node $NODE_MAJOR into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  npm install --silent --no-save --no-package-lock --prefix "$NODE_DIR" "node@$NODE_MAJOR" >&2
  export PATH="$NODE_DIR/node_modules/node/bin:$PATH"
fi

# 3. npm dependencies, when missing or older than the lockfile.
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  say "installing npm dependencies"
  log="$(mktemp)"
  if ! (cd "$ROOT" && npm ci --no-audit --no-fund >"$log" 2>&1); then
    # Some npm 11 releases refuse lockfiles that lack other platforms' optional packages (npm/cli#8805);
    # install the same locked versions with `npm install --no-save`, which leaves the lockfile as it is.
    say "npm ci refused ($(grep -m1 'npm error' "$log" || tail -1 "$log")); installing the locked versions with npm install"
    (cd "$ROOT" && npm install --no-save --no-audit --no-fund >"$log" 2>&1) || { cat "$log" >&2; rm -f "$log"; exit 1; }
  fi
  rm -f "$log"
  touch "$ROOT/node_modules/.package-lock.json"
fi

# 4. For the tests: the consumers other people run against our outputs (mini-swe-agent, Hugging Face
#    datasets, SWE-ReX's client with aiohttp, which its RemoteRuntime imports), pinned, in a virtualenv of their own.
CONSUMERS_DIR="$ROOT/.tools/consumers"
CONSUMERS_PINS="mini-swe-agent==2.4.6 datasets==5.2.0 swe-rex==1.4.0 aiohttp==3.14.5"
if [ "${SWEU_SETUP_TEST:-0}" = 1 ] && [ "$(cat "$CONSUMERS_DIR/.pins" 2>/dev/null)" != "$CONSUMERS_PINS" ]; then
  say "installing test consumers into $CONSUMERS_DIR: $CONSUMERS_PINS"
  rm -rf "$CONSUMERS_DIR"
  /usr/bin/python3 -m venv "$CONSUMERS_DIR" >&2
  # shellcheck disable=SC2086
  "$CONSUMERS_DIR/bin/pip" install -q --disable-pip-version-check $CONSUMERS_PINS >&2
  echo "$CONSUMERS_PINS" > "$CONSUMERS_DIR/.pins"
fi

# 5. For the tests: SWE-bench's package, whose generated eval.sh scripts are honest verifiers written by
#    others (test/helpers/verifier-corpus.ts). Its 4.x line still generates them (5.x ships them as data).
SWEBENCH_DIR="$ROOT/.tools/swebench"
SWEBENCH_PINS="swebench==4.1.0"
if [ "${SWEU_SETUP_TEST:-0}" = 1 ] && [ "$(cat "$SWEBENCH_DIR/.pins" 2>/dev/null)" != "$SWEBENCH_PINS" ]; then
  say "installing SWE-bench's package into $SWEBENCH_DIR: $SWEBENCH_PINS"
  rm -rf "$SWEBENCH_DIR"
  /usr/bin/python3 -m venv "$SWEBENCH_DIR" >&2
  "$SWEBENCH_DIR/bin/pip" install -q --disable-pip-version-check $SWEBENCH_PINS >&2
  echo "$SWEBENCH_PINS" > "$SWEBENCH_DIR/.pins"
fi
