#!/bin/sh
# Installs Debian's chromium-headless-shell (Chromium's headless-only build, for the browser test of the HTML run
# report, test/report/html-report.test.ts) when /usr/bin/chromium-headless-shell is missing. Idempotent: does nothing
# when it is already there. Needs root (or sudo) and apt. The headless shell rather than the full `chromium` package:
# the same Blink renderer without the browser's UI, and the report test took a fifth less CPU with it (10.3 against
# 13.0 s, two alternating runs each).
# Quiet: prints one line saying what it did; apt's own output is shown only when it fails.
set -eu

CHROMIUM=/usr/bin/chromium-headless-shell
PACKAGE=chromium-headless-shell

if [ -x "$CHROMIUM" ]; then
  echo "$PACKAGE present: $CHROMIUM"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: apt-get not found; install $PACKAGE so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: run as root (or install sudo) to install $PACKAGE" >&2
    exit 1
  fi
fi

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Wait up to 10 minutes for another apt/dpkg process to release its lock instead of failing at once.
APT="$SUDO apt-get -qq -o DPkg::Lock::Timeout=600"
if ! { $APT update && $APT install -y --no-install-recommends "$PACKAGE"; } >"$LOG" 2>&1; then
  cat "$LOG" >&2
  echo "install-chromium: apt-get failed (output above)" >&2
  exit 1
fi

if [ ! -x "$CHROMIUM" ]; then
  echo "install-chromium: $PACKAGE was installed but $CHROMIUM does not exist" >&2
  exit 1
fi
echo "$PACKAGE installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
