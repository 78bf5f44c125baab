#!/usr/bin/env bash
# Engine benchmarks (criterion): records/s of the standard workload, and the
# time to scrub a 30-minute session to any moment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo bench -p kafkasim-engine --bench workload -- "$@"
