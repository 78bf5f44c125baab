//! The engine's random draws, each of a fixed width. `rand` samples a
//! `usize` range with 64 bits on a 64-bit host and 32 in wasm, so one such
//! draw made the same seed give one run in `kafkasim` and another in the
//! browser. `clippy.toml` forbids `gen_range` elsewhere.

#![allow(clippy::disallowed_methods)]

use rand::{Rng, RngCore};

/// Uniform in `0..n`; `n` must be above zero.
pub fn below(rng: &mut impl RngCore, n: u32) -> u32 {
    rng.gen_range(0..n)
}

/// Uniform in `0..=max`.
pub fn up_to(rng: &mut impl RngCore, max: u64) -> u64 {
    rng.gen_range(0..=max)
}

/// A uniformly chosen element of `items`, or none when it is empty.
pub fn pick<T: Copy>(rng: &mut impl RngCore, items: &[T]) -> Option<T> {
    let n = u32::try_from(items.len()).unwrap_or(u32::MAX);
    if n == 0 {
        return None;
    }
    items.get(below(rng, n) as usize).copied()
}
