//! A learner catching up by snapshot: the voters checkpoint every few entries and purge their
//! logs, so a spare machine added as a learner can only be sent the binlog files (a snapshot)
//! and then the log. While it catches up, faults are drawn: the leader sending it is killed,
//! the learner is killed and its disk power-cut in the middle of a reception, or it is cut off
//! for a while. It must end with every transaction, byte-identical, serve its replicas, and
//! have been caught up by a snapshot (else the scenario did not test what it is for).
#![cfg(madsim)]

use binraft_io_sim::admin::AdminCall;
use binraft_io_sim::cluster::{raft_addr, Role, Sim, SimConfig};
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;

const TEST: &str = "learner_snapshot";
/// The spare's index.
const LEARNER: usize = 3;

/// A fault while the learner catches up.
#[derive(Debug, Clone, Copy)]
enum Fault {
    KillLeader,
    KillLearner { power_cut: bool },
    IsolateLearner,
}

async fn one_seed() -> Report {
    let (add_at, fault, fault_after) = {
        let mut rng = madsim::rand::thread_rng();
        let fault = match rng.gen_range(0..4) {
            0 => None,
            1 => Some(Fault::KillLeader),
            2 => Some(Fault::KillLearner { power_cut: rng.gen_bool(0.5) }),
            _ => Some(Fault::IsolateLearner),
        };
        (rng.gen_range(5_000..12_000u64), fault, rng.gen_range(0..1_500u64))
    };
    let mut asked: Option<AdminCall> = None;
    let mut next_ask = add_at;
    let mut added_at: Option<u64> = None;
    // A fault's undoing: which node comes back (or the network heals), and when.
    let mut undo: Option<(Option<usize>, u64)> = None;
    let mut faulted = false;
    let mut s = Scenario::standard(TEST, move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        if let Some((node, at)) = undo {
            if now >= at {
                match node {
                    Some(i) => sim.restart(i),
                    None => sim.heal_network(),
                }
                undo = None;
            }
        }
        if sim.nodes[LEARNER].role == Role::Spare && now >= next_ask && asked.is_none() {
            if !sim.nodes[LEARNER].alive {
                sim.start_spare(LEARNER);
            }
            let to = sim.puller().unwrap_or(0);
            asked = Some(sim.admin(to, &format!("BINRAFT ADD LEARNER {} '{}'", sim.nodes[LEARNER].id, raft_addr(sim.nodes[LEARNER].id))));
        }
        if let Some(call) = &asked {
            if let Some(outcome) = call.outcome() {
                sim.note(format!("add learner: {outcome:?}"));
                asked = None;
                if outcome.done_or(&["member already"]) {
                    sim.nodes[LEARNER].role = Role::Learner;
                    added_at = Some(now);
                } else {
                    next_ask = now + 500;
                }
            }
        }
        if let (Some(at), Some(f), false) = (added_at, fault, faulted) {
            if now >= at + fault_after {
                faulted = true;
                let back = now + rng.gen_range(300..3_000);
                match f {
                    Fault::KillLeader => {
                        if let Some(l) = sim.puller() {
                            sim.kill(l);
                            undo = Some((Some(l), back));
                        }
                    }
                    Fault::KillLearner { power_cut } => {
                        sim.kill(LEARNER);
                        if power_cut {
                            sim.crash_disk(LEARNER, rng.gen());
                        }
                        undo = Some((Some(LEARNER), back));
                    }
                    Fault::IsolateLearner => {
                        sim.isolate(LEARNER, false);
                        undo = Some((None, back));
                    }
                }
            }
        }
    });
    s.config = SimConfig { spares: 1, snapshot_entries: Some(10), ..s.config };
    s.end_check = Box::new(|sim: &Sim| {
        let installed = sim.trace.lock().lines.iter().any(|l| l.node == "node4" && l.message.contains("snapshot installed"));
        if installed { Ok(()) } else { Err("the learner never installed a snapshot: the run did not test a catch-up by snapshot".into()) }
    });
    scenario::run(s).await
}

#[test]
fn a_learner_catches_up_by_snapshot_under_faults() {
    scenario::main(one_seed);
}
