//! Leader crash loop: every few simulated seconds the node that pulls from the primary (the
//! leader) is killed, its disk loses what it had not synced (a seeded power cut), and it comes
//! back a moment later, while the primary writes and replicas read from random nodes.
#![cfg(madsim)]

use binraft_io_sim::cluster::SimConfig;
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "leader_crash_loop";

async fn one_seed() -> Report {
    let mut next_kill = 4_000u64;
    let mut down: Option<(usize, u64)> = None;
    scenario::run(Scenario {
        test: TEST,
        config: SimConfig { txns_max: 800, produce_interval_ms: 10..60, ..SimConfig::default() },
        chaos_ms: 30_000,
        report_violations: false,
        chaos: move |sim: &mut binraft_io_sim::cluster::Sim, now: u64| {
            let mut rng = madsim::rand::thread_rng();
            if let Some((i, back_at)) = down {
                if now >= back_at {
                    sim.restart(i);
                    down = None;
                    next_kill = now + rng.gen_range(2_000..5_000);
                }
                return;
            }
            if now >= next_kill {
                if let Some(i) = sim.puller() {
                    sim.kill(i);
                    sim.crash_disk(i, rng.gen());
                    down = Some((i, now + rng.gen_range(300..2_000)));
                }
            }
        },
    })
    .await
}

#[test]
fn the_leader_killed_again_and_again_loses_nothing() {
    scenario::main(one_seed);
}
