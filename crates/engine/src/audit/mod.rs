//! Checking the simulation: the loss ledger (what was acknowledged, what a
//! failure took) and the invariants checked after every event in tests.

pub mod delivery;
pub mod invariants;
pub mod ledger;
