//! Seeded simulation scenarios of a binraft cluster (`tests/`, one scenario per file), with one
//! invariant per file ([`invariants`]), checked all along a run and once more after it heals.
//!
//! Only under `RUSTFLAGS="--cfg madsim"` (see `binraft-io-sim`); without it this crate is empty.
//! A failing run prints its seed and the one command that replays it, for instance:
//!
//! ```text
//! MADSIM_TEST_SEED=7 RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/sim cargo test -p binraft-sim-tests --test leader_crash_loop
//! ```
//!
//! More seeds: `MADSIM_TEST_NUM=100` (from `MADSIM_TEST_SEED`, one after the other; add
//! `MADSIM_TEST_JOBS=4` to run them in parallel). Determinism: `MADSIM_TEST_CHECK_DETERMINISM=1`
//! runs a seed twice and compares every random draw, and `tests/determinism.rs` compares the
//! hash of the whole event trace of two runs of a seed. `BINRAFT_SIM_LOG=1` prints the trace.

#[cfg(madsim)]
pub mod invariants;
#[cfg(madsim)]
pub mod scenario;
