#!/usr/bin/env bash
# The effect of each server fix (issue 6, item 6): builds the release server at each given commit
# in a scratch worktree, then runs the same capacity step against every build, one after another
# in one run, so the figures compare side by side. Prints one line per build and writes
# bench/results/ladder.md.
#
#   bench/ladder.sh [--sessions N] [--measure S] [--page realistic|tiny] [--together] COMMIT...
#
# `--page tiny` runs the tiny-page variant (`cobrowse-tiny`), whose mirror is negligible, for the
# memory a session costs besides its page.
#
# `--together` runs every build at the same time instead, all pinned to core 0, each driven by a
# generator of its own (on core 1) with N sessions. The builds then share the core's speed second
# by second, which one after another they do not: on these virtual machines the same build's
# share of the core drifts by more than most changes are worth between runs minutes apart. Keep
# the builds' total load well below one core (for example two builds at 3,000 sessions), or each
# slows the others and the figures say little.
#
# Example (the commits named in docs/performance.md):
#   bench/ladder.sh --sessions 5000 9ebebd7 23dbca4 746e6cc HEAD
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=5000
measure=20
page=realistic
together=no
commits=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sessions) sessions="$2"; shift 2 ;;
    --measure) measure="$2"; shift 2 ;;
    --page) page="$2"; shift 2 ;;
    --together) together=yes; shift ;;
    *) commits+=("$1"); shift ;;
  esac
done
if [[ ${#commits[@]} -eq 0 ]]; then
  echo "usage: bench/ladder.sh [--sessions N] [--measure S] [--page realistic|tiny] [--together] COMMIT..." >&2
  exit 2
fi
case "$page" in
  realistic) variant=cobrowse ;;
  tiny) variant=cobrowse-tiny ;;
  *) echo "--page is realistic or tiny, not $page" >&2; exit 2 ;;
esac

bench/setup.sh
cargo build --release -p cobrowse-loadgen
raw=bench/results/raw/ladder
scratch="$raw/worktree"
# A target directory of its own, so the builds never replace target/release/cobrowse.
target_dir="${LADDER_TARGET_DIR:-$PWD/$raw/target}"
mkdir -p "$raw"
git worktree remove --force "$scratch" 2>/dev/null || true
git worktree add --detach "$scratch" HEAD >/dev/null
trap 'git worktree remove --force "$scratch" 2>/dev/null || true' EXIT

# Build every commit first, so no compiler runs while the server is measured.
for commit in "${commits[@]}"; do
  rev=$(git rev-parse --short "$commit")
  # A commit's build is kept, so running the ladder again only builds new commits.
  [[ -x "$raw/cobrowse-$rev" ]] && continue
  (cd "$scratch" && git checkout --quiet --detach "$rev" && CARGO_TARGET_DIR="$target_dir" cargo build --release --quiet -p cobrowse)
  cp "$target_dir/release/cobrowse" "$raw/cobrowse-$rev"
done

out=bench/results/ladder.md
if [[ $together == yes ]]; then
  how="builds run at the same time on core 0, each with its own generator on core 1"
else
  how="builds run one after another"
fi
{
  echo "# Server fixes, one capacity step each"
  echo
  echo "Run $(date -u '+%Y-%m-%d %H:%M UTC'), ${sessions} sessions per build (${page} page), ${measure} s window, server pinned to core 0 and generator to core 1, ${how}."
  echo
  echo "| commit | subject | held | frames/s | p50 ms | p95 ms | p99 ms | max ms | lost | server CPU % | RSS/session KiB |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

# One capacity step against one build; its output goes to $raw/<index>-<rev>.log.
step() {
  local index="$1" rev="$2"
  taskset -c 1 target/release/cobrowse-loadgen capacity --cobrowse-bin "$raw/cobrowse-$rev" \
    --steps "$sessions" --tiny-steps "$sessions" --systems "$variant" --measure "$measure" \
    --out "$raw/run-$index" >"$raw/$index-$rev.log" 2>&1
}

index=0
for commit in "${commits[@]}"; do
  index=$((index + 1))
  rev=$(git rev-parse --short "$commit")
  if [[ $together == yes ]]; then
    step "$index" "$rev" &
  else
    step "$index" "$rev"
  fi
done
wait

index=0
for commit in "${commits[@]}"; do
  index=$((index + 1))
  rev=$(git rev-parse --short "$commit")
  subject=$(git log -1 --format=%s "$rev" | cut -c1-60)
  line=$(grep ' held ' "$raw/$index-$rev.log" | tail -1 || true)
  if [[ -z $line ]]; then
    echo "$rev: no result; see $raw/$index-$rev.log" >&2
    exit 1
  fi
  echo "$rev: $line"
  # "cobrowse: held 5000/5000  frames/s 15000  p50 0.46 p95 1.19 p99 2.33 max 7.53 ms  lost 0+0 ..."
  read -r held fps p50 p95 p99 max lost cpu rss < <(echo "$line" | sed -E \
    's/.*held ([0-9]+)\/[0-9]+ +frames\/s ([0-9.]+) +p50 ([0-9.]+) p95 ([0-9.]+) p99 ([0-9.]+) max ([0-9.]+) ms +lost ([0-9+]+).*server CPU ([0-9.]+)% +RSS\/session ([0-9.]+) KiB.*/\1 \2 \3 \4 \5 \6 \7 \8 \9/')
  echo "| $rev | $subject | $held | $fps | $p50 | $p95 | $p99 | $max | $lost | $cpu | $rss |" >>"$out"
done
echo "Wrote $out"
