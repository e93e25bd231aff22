//! A partition isolating the leader: every few seconds the node that pulls from the primary is
//! cut off for a few seconds, then the partition heals. Cut off from the other members both
//! ways, or from everyone (the primary and the replicas too), or one way only: not heard by
//! the others (they elect a new leader, whose messages it hears), or deaf to them (it hears
//! no one and so believes it still leads, pulling from the primary and proposing what can
//! never commit, while the others elect a new leader that pulls too).
#![cfg(madsim)]

use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "partition_leader";

async fn one_seed() -> Report {
    let mut next = 4_000u64;
    let mut healing_at: Option<u64> = None;
    scenario::run(Scenario::standard(TEST, move |sim: &mut binraft_io_sim::cluster::Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        if let Some(at) = healing_at {
            if now >= at {
                sim.heal_network();
                healing_at = None;
                next = now + rng.gen_range(1_000..4_000);
            }
            return;
        }
        if now >= next {
            if let Some(i) = sim.puller() {
                match rng.gen_range(0..10) {
                    0..=2 => sim.isolate(i, true),
                    3 | 4 => sim.isolate_one_way(i, true),
                    5 | 6 => sim.isolate_one_way(i, false),
                    _ => sim.isolate(i, false),
                }
                healing_at = Some(now + rng.gen_range(2_000..8_000));
            }
        }
    }))
    .await
}

#[test]
fn an_isolated_leader_gives_way_and_nothing_is_lost() {
    scenario::main(one_seed);
}
