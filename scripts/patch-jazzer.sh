#!/usr/bin/env bash
# Makes @jazzer.js/fuzzer's prebuilt native addon (prebuilds/fuzzer-linux-<arch>.node) load on glibc
# older than 2.38 (Debian 12 has 2.36). The prebuild needs GLIBC_2.38 and GLIBCXX_3.4.32 for exactly
# three symbols: __isoc23_strtol, __isoc23_strtoul and std::ios_base_library_init(). For each installed
# copy of the addon this script
#   1. builds fuzz/tools/glibc-shim.cpp (defines those three) into node_modules/.cache and copies the
#      shim, libjazzer-glibc-shim.so, next to the .node;
#   2. with patchelf, clears the three symbols' versions, adds the shim as NEEDED and $ORIGIN to the
#      runpath so the loader finds it;
#   3. marks the GLIBC_2.38 / GLIBCXX_3.4.32 requirements in .gnu.version_r weak (VER_FLG_WEAK) with
#      fuzz/tools/weaken-verneed.mjs, so the loader no longer refuses the file.
# The patch is made on a copy that then replaces the file: pnpm hard-links package files from its
# store, and the store's copy must stay pristine. Nothing happens on glibc >= 2.38 or when the addon
# already loads; safe to run any number of times (run it after every `pnpm install`). Installs
# patchelf (and g++) with apt-get when missing. Prints one line: "[patch-jazzer] OK: ..." or
# "[patch-jazzer] FAILED: ..." (then exits non-zero). See fuzz/README.md.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=toolchain.sh
. "$repo_root/scripts/toolchain.sh"
cd "$repo_root"

shim_name=libjazzer-glibc-shim.so
shim_src=fuzz/tools/glibc-shim.cpp
weaken=fuzz/tools/weaken-verneed.mjs
cache_dir=node_modules/.cache/jazzer-glibc-shim
symbols=(__isoc23_strtol __isoc23_strtoul _ZSt21ios_base_library_initv)
versions=(GLIBC_2.38 GLIBCXX_3.4.32)

tmp_files=()
cleanup() { [ ${#tmp_files[@]} -eq 0 ] || rm -f "${tmp_files[@]}"; }
fail() {
  echo "[patch-jazzer] FAILED: $*" >&2
  cleanup
  exit 1
}
trap 'fail "unexpected error in scripts/patch-jazzer.sh line $LINENO (see the output above)"' ERR
trap cleanup EXIT

# Prints nothing and succeeds when the addon FILE loads into this Node; else prints why not.
load_error() {
  node -e '
    try { process.dlopen({ exports: {} }, process.argv[1]) }
    catch (e) { console.log(String(e.message).split("\n")[0]); process.exit(1) }' "$1"
}

# --- 1. Is there anything to do? ----------------------------------------------------------------------
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}' || true)
if [ -z "$glibc" ]; then
  echo "[patch-jazzer] OK: not a glibc system; nothing to patch"
  exit 0
fi
if [ "$(printf '%s\n' 2.38 "$glibc" | sort -V | head -n1)" = 2.38 ]; then
  echo "[patch-jazzer] OK: glibc $glibc >= 2.38, the prebuilt Jazzer.js fuzzer needs no patch"
  exit 0
fi

arch=$(node -p process.arch)
addon_name="fuzzer-linux-$arch.node"
# Every installed copy: pnpm's virtual store (any version/peer suffix), plus whatever the fuzz
# package's @jazzer.js/core actually resolves (covers other node-linker layouts).
mapfile -t addons < <(
  {
    for f in node_modules/.pnpm/@jazzer.js+fuzzer@*/node_modules/@jazzer.js/fuzzer/prebuilds/"$addon_name"; do
      [ -f "$f" ] && echo "$f"
    done
    if [ -e fuzz/node_modules/@jazzer.js/core/package.json ]; then
      node -e '
        const { createRequire } = require("node:module")
        const { realpathSync, existsSync } = require("node:fs")
        const path = require("node:path")
        const req = createRequire(realpathSync(process.argv[1]))
        const f = path.join(path.dirname(req.resolve("@jazzer.js/fuzzer/package.json")), "prebuilds", process.argv[2])
        if (existsSync(f)) console.log(f)' fuzz/node_modules/@jazzer.js/core/package.json "$addon_name" 2>/dev/null || true
    fi
  } | xargs -r -d '\n' realpath | sort -u
)
[ ${#addons[@]} -gt 0 ] || fail "no @jazzer.js/fuzzer prebuilds/$addon_name found under node_modules (run pnpm install first)"

todo=()
for f in "${addons[@]}"; do
  load_error "$f" >/dev/null || todo+=("$f")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "[patch-jazzer] OK: $addon_name already loads on glibc $glibc (${#addons[@]} copy/copies, already patched)"
  exit 0
fi

# --- 2. Tools: patchelf and a C++ compiler ---------------------------------------------------------------
missing=()
command -v patchelf >/dev/null || missing+=(patchelf)
command -v g++ >/dev/null || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || fail "${missing[*]} missing and apt-get unavailable; install ${missing[*]} by hand"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "${missing[*]} missing; installing needs root (run: apt-get install -y ${missing[*]})"
    sudo=(sudo -n)
  fi
  apt_log=$(mktemp)
  tmp_files+=("$apt_log")
  if ! { "${sudo[@]}" apt-get update -q && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q \
    --no-install-recommends "${missing[@]}"; } >"$apt_log" 2>&1; then
    tail -n 20 "$apt_log" >&2
    fail "could not install ${missing[*]} with apt-get (output above)"
  fi
  for tool in patchelf g++; do command -v "$tool" >/dev/null || fail "$tool still missing after apt-get install"; done
fi

# --- 3. The shim -----------------------------------------------------------------------------------------
mkdir -p "$cache_dir"
shim="$cache_dir/$shim_name"
if [ ! -f "$shim" ] || [ "$shim_src" -nt "$shim" ]; then
  g++ -shared -fPIC -O2 -Wall -o "$shim.tmp" "$shim_src" || fail "could not compile $shim_src"
  mv -f "$shim.tmp" "$shim"
fi

# --- 4. Patch each copy -------------------------------------------------------------------------------
for f in "${todo[@]}"; do
  dir=$(dirname "$f")
  cp "$shim" "$dir/.$shim_name.tmp"
  tmp_files+=("$dir/.$shim_name.tmp")
  mv -f "$dir/.$shim_name.tmp" "$dir/$shim_name"

  tmp="$dir/.$addon_name.patching"
  tmp_files+=("$tmp")
  cp "$f" "$tmp" # a new inode: never write through pnpm's hard link into its store
  clear_args=()
  for s in "${symbols[@]}"; do clear_args+=(--clear-symbol-version "$s"); done
  patchelf "${clear_args[@]}" "$tmp" || fail "patchelf could not clear symbol versions in $f"
  if ! patchelf --print-needed "$tmp" | grep -qxF "$shim_name"; then
    patchelf --add-needed "$shim_name" "$tmp" || fail "patchelf could not add $shim_name to $f"
  fi
  rpath=$(patchelf --print-rpath "$tmp")
  case ":$rpath:" in
    *':$ORIGIN:'*) ;;
    *) patchelf --set-rpath "${rpath:+$rpath:}\$ORIGIN" "$tmp" || fail "patchelf could not set the runpath of $f" ;;
  esac
  node "$weaken" "$tmp" "${versions[@]}" >/dev/null || fail "could not mark ${versions[*]} weak in $f"
  chmod --reference="$f" "$tmp"
  mv -f "$tmp" "$f"

  if ! why=$(load_error "$f"); then
    fail "patched $f still does not load: $why"
  fi
done

echo "[patch-jazzer] OK: patched ${#todo[@]} copy/copies of $addon_name for glibc $glibc (shim $shim_name, weak ${versions[*]})"
