//! Leader crash loop: every few simulated seconds the node that pulls from the primary (the
//! leader) is killed, its disk loses what it had not synced (a seeded power cut), and it comes
//! back a moment later, while the primary writes and replicas read from random nodes.
#![cfg(madsim)]

use binraft_sim_tests::scenario::{self, Report, Scenario};

const TEST: &str = "leader_crash_loop";

async fn one_seed() -> Report {
    scenario::run(Scenario::standard(TEST, scenario::crash_loop(4_000, 2_000..5_000, 300..2_000))).await
}

#[test]
fn the_leader_killed_again_and_again_loses_nothing() {
    scenario::main(one_seed);
}
