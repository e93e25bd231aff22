//! Rolling restarts, as an upgrade does them: each member in turn is stopped (SIGKILL, its page
//! cache kept, or on some seeds a power cut of its disk), started again, and given a moment to
//! catch up before the next one goes, round after round, while the primary writes and replicas
//! read from random members. Most rounds take the leader down once.
#![cfg(madsim)]

use binraft_io_sim::cluster::SimConfig;
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "rolling_restarts";

async fn one_seed() -> Report {
    let mut next_at = 3_000u64;
    let mut turn = 0usize;
    let mut down: Option<(usize, u64)> = None;
    let mut power_cuts = None;
    scenario::run(Scenario {
        test: TEST,
        config: SimConfig { txns_max: 800, produce_interval_ms: 10..60, ..SimConfig::default() },
        chaos_ms: 30_000,
        report_violations: false,
        chaos: move |sim: &mut binraft_io_sim::cluster::Sim, now: u64| {
            let mut rng = madsim::rand::thread_rng();
            let cuts = *power_cuts.get_or_insert_with(|| rng.gen_bool(0.3));
            if let Some((i, back_at)) = down {
                if now >= back_at {
                    sim.restart(i);
                    down = None;
                    next_at = now + rng.gen_range(1_000..3_000);
                }
                return;
            }
            if now >= next_at {
                let i = turn % sim.nodes.len();
                turn += 1;
                sim.kill(i);
                if cuts {
                    sim.crash_disk(i, rng.gen());
                }
                down = Some((i, now + rng.gen_range(200..1_500)));
            }
        },
    })
    .await
}

#[test]
fn members_restarted_one_after_another_lose_nothing() {
    scenario::main(one_seed);
}
