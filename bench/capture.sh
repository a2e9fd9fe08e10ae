#!/usr/bin/env bash
# Capture cost against rrweb (issue 6, item 1): the SDK and rrweb's recorder on the same pages and
# workloads in one headless Chromium. Writes bench/results/capture.json and capture.md, and records
# the SDK's frame streams for bench/compression.sh. Arguments go to bench/capture/capture.js
# (--reps N, --only page,page).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/setup.sh
cargo build --release -p cobrowse -p cobrowse-loadgen
# The server runs on core 0 (the script pins it); this script and Chromium on core 1.
exec taskset -c 1 node bench/capture/capture.js "$@"
