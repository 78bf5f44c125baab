//! Running the simulation: scenario files, sessions with time travel,
//! Compare's twin, the built-in scenes, classroom timings and the benchmark
//! workload, and the golden traces every platform must agree on.

pub mod compare;
pub mod golden;
pub mod presets;
pub mod scenario;
pub mod session;
pub mod timings;
pub mod workload;
