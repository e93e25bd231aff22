//! Rolling restarts, as an upgrade does them: each member in turn is stopped (SIGKILL, its page
//! cache kept, or on some seeds a power cut of its disk), started again, and given a moment to
//! catch up before the next one goes, round after round, while the primary writes and replicas
//! read from random members. Most rounds take the leader down once.
#![cfg(madsim)]

use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "rolling_restarts";

async fn one_seed() -> Report {
    let power_cuts = madsim::rand::thread_rng().gen_bool(0.3);
    scenario::run(Scenario::standard(TEST, scenario::kill_cycle(3_000, 1_000..3_000, 200..1_500, |sim, _, turn| Some(turn % sim.nodes.len()), move |_| power_cuts))).await
}

#[test]
fn members_restarted_one_after_another_lose_nothing() {
    scenario::main(one_seed);
}
