#!/bin/sh
# Installs Debian's chromium (for the browser test of the HTML run report, test/report/html-report.test.ts) when
# /usr/bin/chromium is missing. Idempotent: does nothing when chromium is already there. Needs root (or sudo) and apt.
# Quiet: prints one line saying what it did; apt's own output is shown only when it fails.
set -eu

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "chromium present: $CHROMIUM"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install chromium so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: run as root (or install sudo) to install chromium" >&2
    exit 1
  fi
fi

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Wait up to 10 minutes for another apt/dpkg process to release its lock instead of failing at once.
APT="$SUDO apt-get -qq -o DPkg::Lock::Timeout=600"
if ! { $APT update && $APT install -y --no-install-recommends chromium; } >"$LOG" 2>&1; then
  cat "$LOG" >&2
  echo "install-chromium: apt-get failed (output above)" >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "install-chromium: chromium was installed but $CHROMIUM does not exist" >&2
  exit 1
fi
echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
