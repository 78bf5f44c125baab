#!/usr/bin/env bash
# Engine benchmarks: the standard workload natively and as wasm in headless
# Chromium (same code, one run, side by side), then criterion's statistics
# for the workload and for scrubbing a 30-minute session.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$KAFKASIM_ROOT"
say "Standard workload, native vs wasm"
cargo run -q --profile bench -p kafkasim-engine --example workload
trunk build --release --offline
node tests/bench/engine-wasm.mjs
say "Criterion: workload throughput and seek"
cargo bench -p kafkasim-engine --bench workload -- "$@"
