#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine: Chromium from Debian's packages for the
# end-to-end tests, and the npm packages (TypeScript for the type check, jsdom, playwright-core).
# Idempotent: a machine that already has them is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Chromium (Debian package)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
  echo "==> installing Node.js (Debian package)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

echo "==> installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
