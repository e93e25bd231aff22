//! binraft's node on madsim: the same node code as `io-tokio` ([`binraft::server::start`]), run
//! inside the simulator with a simulated network (partitions, clogged links, loss), node kill
//! and restart, the crash-model disk of core ([`binraft_core::store::mem_disk::MemDisk`]),
//! a simulated MariaDB primary made of the project's server side ([`primary`]), and replicas
//! made of its client side ([`replica`]).
//!
//! **Only under `RUSTFLAGS="--cfg madsim"`.** Without that flag the crate holds only what does
//! not need the simulator (the seeded binlog generator, [`binlog`]), so that the workspace's
//! normal build and clippy stay green; [`cluster`], [`primary`], [`replica`] and [`trace`] are
//! compiled only with it. Build it in its own target directory:
//! `RUSTFLAGS="--cfg madsim" CARGO_TARGET_DIR=target/sim cargo test -p binraft-sim-tests`.
//!
//! In: a seed (madsim's, `MADSIM_TEST_SEED`) and a [`cluster::SimConfig`]. Out: a running
//! [`cluster::Sim`] (which can also kill its primary and promote a replica of it,
//! [`cluster::Sim::fail_over`]), binraft's files as every node must hold them ([`layout`]),
//! and observations (what every replica received, the primary's sessions,
//! each node's disk, the nodes' logs with the simulated time) the invariants of `sim-tests`
//! check.

#[cfg(madsim)]
pub mod admin;
#[cfg(madsim)]
pub mod arrival;
pub mod binlog;
#[cfg(madsim)]
pub mod layout;
#[cfg(madsim)]
pub mod cluster;
#[cfg(madsim)]
pub mod primary;
#[cfg(madsim)]
pub mod replica;
#[cfg(madsim)]
pub mod trace;
