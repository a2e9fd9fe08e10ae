#!/usr/bin/env bash
# End-to-end latency (issue 6, item 2) and join time (item 4): customer page and agent workspace
# in one headless Chromium, at idle and under the load generator. Writes bench/results/e2e.json
# and e2e.md. Arguments go to bench/e2e/latency.js (--changes, --interval, --load-sessions,
# --joins, --skip-load).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/setup.sh
cargo build --release -p cobrowse -p cobrowse-loadgen
# The server runs on core 0 (the script pins it); this script, Chromium and the load generator on core 1.
exec taskset -c 1 node bench/e2e/latency.js "$@"
