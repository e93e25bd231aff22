//! Runs one scenario on the current seed: the cluster starts, a chaos phase plays the
//! scenario's faults while the primary writes, then everything heals (network, dead nodes) and
//! the run must converge within [`CONVERGE_MS`]: every node holds every transaction and every
//! replica has received them all. The invariants are checked every [`CHECK_MS`] all along.
//!
//! A failure panics with the seed and the command that replays it; so does a panic anywhere in
//! the simulation (a hook prints them first).

use crate::invariants::Invariants;
use binraft_io_sim::cluster::{Sim, SimConfig};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often the invariants are checked, in simulated ms.
pub const CHECK_MS: u64 = 100;
/// After the faults stop, everything must have converged within this (simulated ms).
pub const CONVERGE_MS: u64 = 60_000;

thread_local! {
    static REPLAY: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The command that replays `seed` of the scenario in `tests/<test>.rs`.
pub fn replay_command(seed: u64, test: &str) -> String {
    format!("MADSIM_TEST_SEED={seed} RUSTFLAGS=\"--cfg madsim\" CARGO_TARGET_DIR=target/sim cargo test -p binraft-sim-tests --test {test}")
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            REPLAY.with(|r| {
                if let Some(cmd) = r.borrow().as_ref() {
                    eprintln!("\n=== simulation failed; replay with:\n{cmd}\n");
                }
            });
            default(info);
        }));
    });
}

/// A scenario: its test file's name, its configuration, how long it plays faults, and the
/// faults, called every [`CHECK_MS`] with the simulated time.
/// A cycle of kills: from `first_kill_ms` on, the node `pick` chooses (given the turn, from 0)
/// is killed, its disk power-cut when `power_cut` says so, restarted after a time drawn from
/// `down_ms`, and the next kill comes a time drawn from `gap_ms` after that. `pick` may choose
/// none; it is asked again at the next check.
pub fn kill_cycle(
    first_kill_ms: u64,
    gap_ms: std::ops::Range<u64>,
    down_ms: std::ops::Range<u64>,
    mut pick: impl FnMut(&Sim, &mut madsim::rand::GlobalRng, usize) -> Option<usize>,
    mut power_cut: impl FnMut(&mut madsim::rand::GlobalRng) -> bool,
) -> impl FnMut(&mut Sim, u64) {
    use rand::Rng;
    let mut next_kill = first_kill_ms;
    let mut down: Option<(usize, u64)> = None;
    let mut turn = 0;
    move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        if let Some((i, back_at)) = down {
            if now >= back_at {
                sim.restart(i);
                down = None;
                next_kill = now + rng.gen_range(gap_ms.clone());
            }
            return;
        }
        if now >= next_kill {
            if let Some(i) = pick(sim, &mut rng, turn) {
                turn += 1;
                sim.kill(i);
                if power_cut(&mut rng) {
                    sim.crash_disk(i, rng.gen());
                }
                down = Some((i, now + rng.gen_range(down_ms.clone())));
            }
        }
    }
}

/// The leader crash loop's faults: the node that pulls is killed with a seeded power cut of
/// its disk, again and again ([`kill_cycle`]).
pub fn crash_loop(first_kill_ms: u64, gap_ms: std::ops::Range<u64>, down_ms: std::ops::Range<u64>) -> impl FnMut(&mut Sim, u64) {
    kill_cycle(first_kill_ms, gap_ms, down_ms, |sim, _, _| sim.puller(), |_| true)
}

/// What a scenario checks once its run converged.
pub type EndCheck = Box<dyn Fn(&Sim) -> Result<(), String>>;

pub struct Scenario<F> {
    pub test: &'static str,
    pub config: SimConfig,
    pub chaos_ms: u64,
    pub chaos: F,
    /// Stop at the first violation and report it instead of failing (the determinism check
    /// compares failing runs too).
    pub report_violations: bool,
    /// What the scenario itself must see once the run converged (that it tested what it is
    /// for): asked at every check after convergence, an error at the bound fails the run as a
    /// violation does.
    pub end_check: EndCheck,
}

impl<F: FnMut(&mut Sim, u64)> Scenario<F> {
    /// The scenarios' common shape: 800 transactions, one every 10 to 60 ms, faults for 30
    /// simulated seconds, a violation fails the run.
    pub fn standard(test: &'static str, chaos: F) -> Scenario<F> {
        Scenario { test, config: SimConfig { txns_max: 800, produce_interval_ms: 10..60, ..SimConfig::default() }, chaos_ms: 30_000, chaos, report_violations: false, end_check: Box::new(|_| Ok(())) }
    }
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Report {
    pub seed: u64,
    pub sim_ms: u64,
    pub txns: usize,
    pub trace_hash: u64,
    pub trace_lines: usize,
    /// The violation that stopped the run, with `report_violations`.
    pub violation: Option<String>,
}

pub async fn run<F: FnMut(&mut Sim, u64)>(mut s: Scenario<F>) -> Report {
    install_panic_hook();
    let seed = madsim::runtime::Handle::current().seed();
    REPLAY.with(|r| *r.borrow_mut() = Some(replay_command(seed, s.test)));
    let mut sim = Sim::start(s.config.clone()).await;
    let mut inv = Invariants::default();
    let test = s.test;
    let fail = |sim: &Sim, e: String| -> ! {
        sim.note(format!("VIOLATION: {e}"));
        panic!("seed {seed}: {e}\nreplay: {}", replay_command(seed, test));
    };
    let outcome = drive(&mut s, &mut sim, &mut inv).await;
    let violation = match outcome {
        Ok(()) => None,
        Err(e) if s.report_violations => {
            sim.note(format!("VIOLATION: {e}"));
            Some(e)
        }
        Err(e) => fail(&sim, e),
    };
    let sim_ms = sim.now_ms();
    let acked = sim.acked_txns();
    let (txns, acked) = {
        let p = sim.primary.lock();
        (p.log.txns.len(), p.semi_sync.then_some(acked))
    };
    if violation.is_none() {
        sim.note(format!("converged at {sim_ms} ms with {txns} transactions"));
    }
    let trace = sim.trace.lock();
    let report = Report { seed, sim_ms, txns, trace_hash: trace.hash(), trace_lines: trace.lines.len(), violation };
    drop(trace);
    SIM_MS.fetch_add(sim_ms, Ordering::Relaxed);
    SEEDS.fetch_add(1, Ordering::Relaxed);
    let acked = acked.map(|a| format!(" ({a} ACKed by semi-sync)")).unwrap_or_default();
    eprintln!("seed {seed}: {}, {txns} transactions{acked}, {:.1} simulated s, trace {:016x} ({} lines)", if report.violation.is_some() { "VIOLATION" } else { "ok" }, sim_ms as f64 / 1000.0, report.trace_hash, report.trace_lines);
    REPLAY.with(|r| *r.borrow_mut() = None);
    report
}

/// The chaos phase, the healing and the convergence: the first violation, if any.
async fn drive<F: FnMut(&mut Sim, u64)>(s: &mut Scenario<F>, sim: &mut Sim, inv: &mut Invariants) -> Result<(), String> {
    while sim.now_ms() < s.chaos_ms {
        tokio::time::sleep(Duration::from_millis(CHECK_MS)).await;
        let now = sim.now_ms();
        (s.chaos)(sim, now);
        sim.supervise();
        inv.check(sim)?;
    }
    // Heal: the network and the disks (a disk filled near the chaos's end has its space
    // back: leader_disk_faults seed 50 stayed full forever), then every dead member comes
    // back and every stalled one runs again; the primary writes its last ones.
    sim.heal_network();
    for i in 0..sim.nodes.len() {
        if sim.nodes[i].disk.capacity_bytes() != u64::MAX {
            sim.free_space(i);
        }
    }
    let dead: Vec<usize> = sim.members().filter(|(_, n)| !n.alive).map(|(i, _)| i).collect();
    for i in dead {
        sim.restart(i);
    }
    let stalled: Vec<usize> = (0..sim.nodes.len()).filter(|&i| sim.nodes[i].paused).collect();
    for i in stalled {
        sim.resume(i);
    }
    let healed = sim.now_ms();
    loop {
        tokio::time::sleep(Duration::from_millis(CHECK_MS)).await;
        sim.supervise();
        inv.check(sim)?;
        // Converged, and what the scenario itself waits for has happened (a purge decided
        // while a member was down reaches it once it is back).
        let done = converged(sim, inv);
        let end = if done { (s.end_check)(sim) } else { Ok(()) };
        if done && end.is_ok() {
            break;
        }
        if sim.now_ms() > healed + CONVERGE_MS {
            if let Err(e) = end {
                return Err(format!("{CONVERGE_MS} ms after healing: {e}"));
            }
            let held: Vec<String> = sim.members().map(|(_, n)| format!("node{}: {}", n.id, txns_held(sim, n))).collect();
            return Err(format!("no convergence {CONVERGE_MS} ms after healing: the primary has {} transactions (of {}), nodes hold {held:?}, replicas {:?}", sim.primary.lock().log.txns.len(), s.config.txns_max, inv.replica_prefix.held()));
        }
    }
    inv.check_final(sim)
}

/// Runs `f` on the seeds madsim's environment asks for (`MADSIM_TEST_SEED`, `MADSIM_TEST_NUM`,
/// `MADSIM_TEST_JOBS`, `MADSIM_TEST_CHECK_DETERMINISM`), then prints the speed: simulated
/// seconds per wall second and seeds per minute. Outside the simulation, where the clock is real.
pub fn main<F: std::future::Future<Output = Report> + 'static>(f: fn() -> F) -> Report {
    let t = std::time::Instant::now();
    let (ms0, seeds0) = (SIM_MS.load(Ordering::Relaxed), SEEDS.load(Ordering::Relaxed));
    let report = madsim::runtime::Builder::from_env().run(f);
    let wall = t.elapsed().as_secs_f64().max(1e-3);
    let (ms, seeds) = (SIM_MS.load(Ordering::Relaxed) - ms0, SEEDS.load(Ordering::Relaxed) - seeds0);
    eprintln!("{seeds} seed(s): {:.1} simulated s in {wall:.1} wall s ({:.1}x real time), {:.1} seeds/min", ms as f64 / 1000.0, ms as f64 / 1000.0 / wall, seeds as f64 * 60.0 / wall);
    report
}

static SIM_MS: AtomicU64 = AtomicU64::new(0);
static SEEDS: AtomicU64 = AtomicU64::new(0);

/// How many of the primary's transactions a node holds, from the first: in its files, or in
/// files before its oldest, which it purged (where they lie in binraft's layout).
pub fn txns_held(sim: &Sim, n: &binraft_io_sim::cluster::SimNode) -> usize {
    let log = sim.layout.lock();
    let Some(oldest) = log.files.iter().position(|(name, _)| n.disk.visible_len(name).is_some()) else { return 0 };
    log.txns.iter().take_while(|t| t.file < oldest || n.disk.visible_len(&log.files[t.file].0).is_some_and(|len| len >= t.end)).count()
}

/// The primary has written everything, every node holds it all, and so does every replica.
fn converged(sim: &Sim, inv: &Invariants) -> bool {
    let total = {
        let p = sim.primary.lock();
        if p.log.txns.len() < p.txns_max {
            return false;
        }
        p.log.txns.len()
    };
    sim.members().all(|(_, n)| txns_held(sim, n) == total) && inv.replica_prefix.held().iter().all(|&h| h == total)
}
