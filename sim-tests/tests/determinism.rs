//! Replaying a seed gives the same run: the leader crash loop's scenario is run twice on the
//! same seed, each time on a fresh simulation, and the hashes of the two whole event traces
//! (every node's log line at INFO and above, with its simulated time, and the harness's own)
//! must be equal (a run that finds a violation stops there, the same way both times).
//! `MADSIM_TEST_CHECK_DETERMINISM=1` on any scenario checks the random draws too.
#![cfg(madsim)]

use binraft_io_sim::cluster::SimConfig;
use binraft_sim_tests::scenario::{self, Report, Scenario};

async fn one_seed() -> Report {
    scenario::run(Scenario {
        test: "determinism",
        config: SimConfig { txns_max: 200, produce_interval_ms: 10..60, ..SimConfig::default() },
        chaos_ms: 10_000,
        report_violations: true,
        chaos: scenario::crash_loop(3_000, 2_000..4_000, 300..1_500),
        end_check: Box::new(|_| Ok(())),
    })
    .await
}

fn run_on_fresh_thread(seed: u64) -> Report {
    std::thread::spawn(move || madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default()).block_on(one_seed())).join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

#[test]
fn a_seed_run_twice_gives_the_same_trace() {
    let first: u64 = std::env::var("MADSIM_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let n: u64 = std::env::var("MADSIM_TEST_NUM").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    for seed in first..first + n {
        let a = run_on_fresh_thread(seed);
        let b = run_on_fresh_thread(seed);
        assert_eq!(
            (a.trace_hash, a.trace_lines, a.txns, &a.violation),
            (b.trace_hash, b.trace_lines, b.txns, &b.violation),
            "seed {seed}: two runs differ\nreplay: {}",
            scenario::replay_command(seed, "determinism")
        );
        // A violation is the scenario tests' business: here only its replay matters.
        eprintln!("seed {seed}: deterministic, trace {:016x} ({} lines){}", a.trace_hash, a.trace_lines, a.violation.as_deref().map(|v| format!(", same violation: {v}")).unwrap_or_default());
    }
}
