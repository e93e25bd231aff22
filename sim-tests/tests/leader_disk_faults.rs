//! Disk faults on the leader, again and again: its next syncs fail (losing the pages they were
//! to write), or its disk fills up for a few seconds until space is freed. binraft on it stops
//! (nothing in memory is to be trusted after a failed fsync), its replicas go to the other
//! members, a new leader takes over the pull, and the supervisor starts it again: it recovers
//! from what its disk holds.
#![cfg(madsim)]

use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "leader_disk_faults";

async fn one_seed() -> Report {
    let mut next = 3_000u64;
    let mut full: Option<(usize, u64)> = None;
    scenario::run(Scenario::standard(TEST, move |sim: &mut binraft_io_sim::cluster::Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        if let Some((i, until)) = full {
            if now >= until {
                sim.free_space(i);
                full = None;
                next = now + rng.gen_range(1_000..4_000);
            }
            return;
        }
        if now >= next {
            if let Some(i) = sim.puller() {
                if rng.gen_bool(0.5) {
                    sim.fail_syncs(i, rng.gen_range(1..=3));
                    next = now + rng.gen_range(2_000..5_000);
                } else {
                    sim.fill_disk(i, rng.gen_range(0..64 << 10));
                    full = Some((i, now + rng.gen_range(1_000..4_000)));
                }
            }
        }
    }))
    .await
}

#[test]
fn a_leader_whose_disk_fails_gives_way_and_nothing_is_lost() {
    scenario::main(one_seed);
}
