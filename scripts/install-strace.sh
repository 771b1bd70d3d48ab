#!/usr/bin/env bash
# Installs Debian's strace when it is missing: test/store/durability-order.test.ts runs a live run under
# `strace -f` to observe, from outside the process, that every candle is fdatasynced before the run acts on it.
# Does nothing when strace is already there.
#
# Usage: bash scripts/install-strace.sh        (root, or a user with sudo, for apt)
set -euo pipefail

say() { printf 'install-strace: %s\n' "$*"; }
fail() { printf 'install-strace: error: %s\n' "$*" >&2; exit 1; }

command -v strace >/dev/null 2>&1 && exit 0
command -v apt-get >/dev/null 2>&1 || fail 'strace is missing and there is no apt-get here; install strace another way'
if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
  fail 'installing strace needs root: run this script as root or install sudo'
fi
apt=(${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
say 'installing strace with apt-get'
if ! "${apt[@]}" install -y --no-install-recommends strace; then
  say 'apt-get install failed; updating the package lists and trying again'
  "${apt[@]}" update
  "${apt[@]}" install -y --no-install-recommends strace
fi
say "installed $(strace -V | head -1)"
