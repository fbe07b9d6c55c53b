#!/usr/bin/env bash
# Fuzzes the Smartlead parser/mapper and webhook authentication.
#
#   fuzz/run.sh [SECONDS_PER_TARGET=60]
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). The parser's corpus
# starts from every fixture. Any crash is saved under fuzz/artifacts/<target>/ and must become a
# regular test in tests/ before it is fixed.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
mkdir -p corpus/parse_delivery
cp ../tests/fixtures/smartlead/*.json ../tests/fixtures/smartlead/bad/*.json corpus/parse_delivery/
for target in parse_delivery authenticate; do
  echo "fuzzing $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536
done
