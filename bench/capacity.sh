#!/usr/bin/env bash
# Server capacity (issue 6, item 3): N customers + N agents against the Cobrowse server (with a
# realistic page and with a tiny one), the socket.io relay and the bare `ws` relay, each started
# fresh and pinned to core 0 while the generator runs on core 1. Writes bench/results/capacity.json
# and capacity.md and prints each step's figures. Extra arguments go to `cobrowse-loadgen
# capacity` (e.g. --steps 1000,2500 --systems cobrowse,ws --measure 30); BENCH_COBROWSE_BIN picks
# another server binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bench/setup.sh
cargo build --release -p cobrowse -p cobrowse-loadgen
exec taskset -c 1 target/release/cobrowse-loadgen capacity \
  --cobrowse-bin "${BENCH_COBROWSE_BIN:-target/release/cobrowse}" "$@"
