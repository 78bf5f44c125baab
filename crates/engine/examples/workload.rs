//! Times the standard workload natively and prints records/s, for comparison
//! with the same workload in the browser (`tests/bench/engine-wasm.mjs`).
//! `cargo run --profile bench -p kafkasim-engine --example workload`

use kafkasim_engine::workload::{produce_and_replicate, standard_cluster};
use std::time::Instant;

fn main() {
    let records = 60_000;
    let base = standard_cluster();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let c = base.clone();
        let start = Instant::now();
        let acked = produce_and_replicate(c, records, 200);
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(acked, records as u64);
        best = best.min(secs);
    }
    println!(
        "native: {:.0} records/s (best of 5, {records} records)",
        records as f64 / best
    );
}
