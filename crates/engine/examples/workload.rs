//! Times the standard workload natively and prints records/s, for comparison
//! with the same workload in the browser (`tests/bench/engine-wasm.mjs`).
//! `cargo run --profile bench -p kafkasim-engine --example workload`

use kafkasim_engine::workload::{run_workload, standard_cluster};
use std::time::Instant;

fn main() {
    let records = 60_000;
    let base = standard_cluster();
    let mut best = f64::MAX;
    for _ in 0..15 {
        let c = base.clone();
        let start = Instant::now();
        let done = run_workload(c, records, 200);
        let secs = start.elapsed().as_secs_f64();
        // Freed outside the measurement, as criterion's `iter_batched` does.
        assert_eq!(done.view().acknowledged_total, records as u64);
        best = best.min(secs);
    }
    println!(
        "native: {:.0} records/s (best of 15, {records} records)",
        records as f64 / best
    );
}
