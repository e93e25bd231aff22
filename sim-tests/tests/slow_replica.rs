//! A slow replica under load: the primary writes as fast as it can (a transaction every 1 to 8
//! ms), one of three replicas reads 16 KiB and then sleeps, and members are killed and
//! restarted now and then. The slow one must not hold anyone back, nor be served anything out
//! of order when it falls far behind the tail; it catches up once the load ends.
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
fn a_slow_replica_under_load_holds_no_one_back() {
    scenario::main(one_seed);
}
