#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to find:
# formatting and lints, Rust unit and integration tests, the browser code's type check and unit
# tests, then end-to-end tests with real Chromium against the real server.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-test-deps.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "==> cargo test"
cargo test --workspace
echo "==> cargo build (the binary the end-to-end tests start)"
cargo build -p cobrowse
echo "==> tsc --checkJs"
npm run --silent typecheck
echo "==> JavaScript unit tests (node:test + jsdom)"
npm run --silent test:unit
echo "==> end-to-end tests (playwright-core + Chromium)"
npm run --silent test:e2e
