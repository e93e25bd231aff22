//! A slow replica under load: the primary writes as fast as it can (a transaction every 1 to 8
//! ms), one of three replicas reads 16 KiB and then sleeps, and members are killed and
//! restarted now and then. Every replica, the slow one too, must get a gap-free, in-order
//! prefix, and all must have everything within the convergence bound. (That the slow one does
//! not slow the others down is not measured here.)
#![cfg(madsim)]

use binraft_io_sim::cluster::SimConfig;
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::seq::SliceRandom;

const TEST: &str = "slow_replica";

async fn one_seed() -> Report {
    let kills = scenario::kill_cycle(5_000, 3_000..8_000, 300..2_000, |sim, rng, _| (0..sim.nodes.len()).collect::<Vec<_>>().choose(rng).copied(), |_| false);
    let mut s = Scenario::standard(TEST, kills);
    s.config = SimConfig { txns_max: 3_000, produce_interval_ms: 1..8, replicas: 3, slow_replica_ms: Some(20), ..s.config };
    scenario::run(s).await
}

#[test]
fn a_slow_replica_under_load_loses_nothing_and_catches_up() {
    scenario::main(one_seed);
}
