//! Teeth: a simulator that passes proves something only if it fails when the node is wrong.
//! Each test plants one real bug for a run ([`Plant`]) and requires a violation (or a panic in
//! the simulation) within a few seeds of the leader crash loop, the CI's seeds; the same seeds
//! pass without the bug (`tests/leader_crash_loop.rs`).
//!
//! - skipping the fsync of the Raft log: caught by `durable_on_majority` at once (a power cut
//!   would leave too few disks with what replicas saw, or a log that does not open);
//! - a semi-sync ACK sent before the Raft commit: caught by `durable_on_majority` when the ACK
//!   reaches the primary;
//! - serving what is not committed (the leader shows what it pulls before the Raft commit):
//!   caught by `durable_on_majority` when it reaches a replica;
//! - applying entries a second time after a restart (the files not taken back to the last
//!   checkpoint): the apply check stops the node, caught as a cluster that never converges.
#![cfg(madsim)]

use binraft_io_sim::cluster::{Bug, Plant, SimConfig};
use binraft_sim_tests::scenario::{self, Report, Scenario};

/// Seeds 1 to this: the planted bug must be caught on at least one.
const SEEDS: u64 = 4;

async fn one_seed(plant: Plant) -> Report {
    scenario::run(Scenario {
        test: "teeth",
        config: SimConfig { txns_max: 300, produce_interval_ms: 10..60, plant: Some(plant), semi_sync: Some(true), ..SimConfig::default() },
        chaos_ms: 10_000,
        report_violations: true,
        chaos: scenario::crash_loop(3_000, 2_000..4_000, 300..1_500),
        end_check: Box::new(|_| Ok(())),
    })
    .await
}

/// The seeds on which `plant` was caught, with what caught it.
fn caught(plant: Plant) -> Vec<(u64, String)> {
    let mut found = Vec::new();
    for seed in 1..=SEEDS {
        let run = std::thread::spawn(move || madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default()).block_on(one_seed(plant))).join();
        let why = match run {
            Ok(report) => report.violation,
            Err(panic) => Some(panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_else(|| "a panic".into())),
        };
        if let Some(why) = why {
            eprintln!("{plant:?} caught on seed {seed}: {why}");
            found.push((seed, why));
            // One seed that catches it is the proof; the rest would only cost time.
            break;
        }
    }
    found
}

#[test]
fn skipping_the_raft_logs_fsync_is_caught() {
    let c = caught(Plant::SkipLogFsync);
    assert!(!c.is_empty(), "the simulator did not notice a node that skips its Raft log's fsync on seeds 1-{SEEDS}");
    // durable_on_majority: what a replica saw is on too few disks, or a disk's log would not
    // even open after a power cut (its segment's header was never synced).
    assert!(c[0].1.contains("durable only on nodes") || c[0].1.contains("durable Raft log"), "caught, but not by durable_on_majority: {}", c[0].1);
}

#[test]
fn a_semi_sync_ack_before_the_raft_commit_is_caught() {
    let c = caught(Plant::Node(Bug::AckBeforeCommit));
    assert!(!c.is_empty(), "the simulator did not notice ACKs sent before the Raft commit on seeds 1-{SEEDS}");
    assert!(c[0].1.contains("ACK"), "caught, but not by the ACK check: {}", c[0].1);
}

#[test]
fn serving_uncommitted_entries_is_caught() {
    let c = caught(Plant::Node(Bug::ServeUncommitted));
    assert!(!c.is_empty(), "the simulator did not notice a leader serving what is not committed on seeds 1-{SEEDS}");
}

#[test]
fn applying_entries_twice_after_a_restart_is_caught() {
    let c = caught(Plant::Node(Bug::ApplyTwiceAfterRestart));
    assert!(!c.is_empty(), "the simulator did not notice entries applied twice after a restart on seeds 1-{SEEDS}");
}
