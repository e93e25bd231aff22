//! A minority that loses its unsynced writes: again and again one node that does not lead is
//! killed and its disk power-cut (a seeded prefix of its unsynced writes kept, the last one
//! perhaps torn), and it comes back and catches up, while the majority goes on. Some seeds add
//! packet loss.
#![cfg(madsim)]

use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "minority_unsynced";

async fn one_seed() -> Report {
    let mut kills = scenario::kill_cycle(
        2_000,
        500..3_000,
        200..3_000,
        |sim, rng, _| {
            let leader = sim.puller();
            let followers: Vec<usize> = (0..sim.nodes.len()).filter(|&i| Some(i) != leader && sim.nodes[i].alive).collect();
            (!followers.is_empty()).then(|| followers[rng.gen_range(0..followers.len())])
        },
        |_| true,
    );
    let mut lossy = None;
    scenario::run(Scenario::standard(TEST, move |sim: &mut binraft_io_sim::cluster::Sim, now: u64| {
        if lossy.is_none() {
            let mut rng = madsim::rand::thread_rng();
            let rate = if rng.gen_bool(0.3) { rng.gen_range(0.001..0.02) } else { 0.0 };
            if rate > 0.0 {
                sim.set_loss(rate);
            }
            lossy = Some(rate);
        }
        kills(sim, now);
    }))
    .await
}

#[test]
fn a_follower_losing_its_unsynced_writes_catches_up() {
    scenario::main(one_seed);
}
