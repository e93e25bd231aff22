//! Seeded simulation scenarios with one invariant per file (no acknowledged transaction lost,
//! replicas byte-identical once caught up, GTID order kept). A failure prints its seed and
//! `MADSIM_TEST_SEED=<seed>` replays it exactly.
//!
//! Empty until `io-sim` has a node to run (after issue 4).
