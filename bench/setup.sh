#!/usr/bin/env bash
# Installs the benchmarks' npm packages (rrweb, socket.io, ws, playwright-core) into
# bench/node_modules from bench/package-lock.json. Never committed (see .gitignore).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
