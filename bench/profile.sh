#!/usr/bin/env bash
# Hot paths of the server under load (issue 6, item 6): `perf record` (cpu-clock, DWARF call
# graphs) on the release server pinned to core 0 while the load generator drives it from core 1.
# Writes bench/results/profile.json and profile.md; perf.data and the full reports stay in
# bench/results/raw/profile/. Arguments go to bench/profile/profile.js (--sessions N, --seconds S,
# --page tiny|realistic).
set -euo pipefail
cd "$(dirname "$0")/.."
bench/setup.sh
cargo build --release -p cobrowse -p cobrowse-loadgen
exec node bench/profile/profile.js "$@"
