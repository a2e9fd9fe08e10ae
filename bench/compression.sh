#!/usr/bin/env bash
# Wire compression (issue 6, item 5): permessage-deflate and CompressionStream on the frame
# streams recorded by bench/capture.sh and bench/e2e.sh (run those first), and what the shipped
# deflate-raw policy saves and costs on each side. Writes bench/results/compression.json and
# compression.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/setup.sh
cargo build --release -p cobrowse-loadgen
cargo build --release -p cobrowse-protocol --example wire_cost
exec node bench/compression/compression.js "$@"
