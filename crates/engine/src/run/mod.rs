//! Running the simulation: scenario files, sessions with time travel,
//! Compare's twin, the built-in scenes, classroom timings and the benchmark
//! workload.

pub mod compare;
pub mod presets;
pub mod scenario;
pub mod session;
pub mod timings;
pub mod workload;
