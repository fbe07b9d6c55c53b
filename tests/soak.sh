#!/usr/bin/env bash
# The long versions of the reliability scenarios (the CI runs the short ones in `cargo test`).
#
#   tests/soak.sh [KILL_CYCLES=50] [DUPLICATE_ROUNDS=200] [ORDER_CASES=2000]
#
# Runs, in release mode and one at a time: SIGKILL under load KILL_CYCLES times, 16 concurrent
# identical deliveries DUPLICATE_ROUNDS times, ORDER_CASES random orderings of one lead's events,
# plus the shutdown, overload, storage-fault and backup scenarios. Needs root (tmpfs, chattr).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_KILL_CYCLES="${1:-50}"
export SOAK_DUPLICATE_ROUNDS="${2:-200}"
export SOAK_ORDER_CASES="${3:-2000}"
echo "soak: ${SOAK_KILL_CYCLES} kill -9 cycles, ${SOAK_DUPLICATE_ROUNDS} duplicate rounds, ${SOAK_ORDER_CASES} orderings"
start=$(date +%s)
cargo test --release --test api -- --test-threads=1 \
  reliability:: storage_faults:: ordering:: ingestion::sixteen_concurrent_identical_deliveries_store_one_row
echo "soak passed in $(( $(date +%s) - start )) s"
