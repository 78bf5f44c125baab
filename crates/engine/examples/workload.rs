//! Times the standard workload natively and prints records/s, for comparison
//! with the same workload in the browser (`tests/bench/engine-wasm.mjs`).
//! `cargo run --profile bench -p kafkasim-engine --example workload`
//!
//! `-- --runs 1` times a single run, for instruction counts under
//! `valgrind --tool=callgrind`, which compare changes where this VM's
//! wall-clock figures swing by a third between identical runs.

// A benchmark times itself with the wall clock; the engine it runs never does.
#![allow(clippy::disallowed_methods)]

use kafkasim_engine::run::workload::{run_workload, standard_cluster};
use std::time::Instant;

fn main() {
    let records = 60_000;
    let base = standard_cluster();
    let args: Vec<String> = std::env::args().collect();
    let runs = match args.iter().position(|a| a == "--runs") {
        Some(i) => args.get(i + 1).and_then(|n| n.parse().ok()).unwrap_or(15),
        None => 15,
    };
    let mut times = Vec::new();
    for _ in 0..runs {
        let c = base.clone();
        let start = Instant::now();
        let done = run_workload(c, records, 200);
        times.push(start.elapsed().as_secs_f64());
        // Freed outside the measurement, as criterion's `iter_batched` does.
        assert_eq!(done.view().acknowledged_total, records as u64);
    }
    times.sort_by(f64::total_cmp);
    let rate = |secs: f64| records as f64 / secs;
    println!(
        "native: {:.0} records/s (best of {runs}, {records} records; median {:.0})",
        rate(times[0]),
        rate(times[times.len() / 2])
    );
}
