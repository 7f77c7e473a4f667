#!/usr/bin/env bash
# Install the system packages the test suite uses for real, only when they are missing.
# PostgreSQL: the tests start their own throw-away cluster with initdb/pg_ctl (see tests/support/pg.py).
set -euo pipefail

find_pg_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

if ! find_pg_bin >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing PostgreSQL (apt-get) for the ledger tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  else
    echo "system-deps: PostgreSQL server binaries (initdb) not found; install the 'postgresql' package" >&2
    echo "system-deps: without them the PostgreSQL tests are skipped locally and fail in CI" >&2
  fi
fi

# Chromium: every test of something a person sees runs in Debian's Chromium, driven by Playwright
# with executable_path=/usr/bin/chromium (Playwright's own browser download is not used).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing Chromium (apt-get) for the browser tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  else
    echo "system-deps: chromium not found; install Debian's 'chromium' package" >&2
    echo "system-deps: without it the browser tests are skipped locally and fail in CI" >&2
  fi
fi

# Node.js/npm: the scanner's tests install released consent platforms from the npm registry
# (tests/scan/cmp/package-lock.json, `npm ci` by the tests when node_modules is missing).
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "system-deps: installing Node.js and npm (apt-get) for the scanner's consent-platform tests" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "system-deps: npm not found; install the 'nodejs' and 'npm' packages" >&2
    echo "system-deps: without them the consent-platform tests are skipped locally and fail in CI" >&2
  fi
fi
