//! PURGE BINARY LOGS while replicas read, under member crashes: every few seconds a DBA asks a
//! random member to purge up to the oldest file a replica still works in (what a DBA checks
//! first), through the log on every member, while members are killed and restarted, their
//! disks sometimes power-cut. Replicas that come back, by GTID or by file and position, find
//! their place in what is left; members that were down purge when they catch up. At the end,
//! what the last purge that was done removed is gone from every member.
#![cfg(madsim)]

use binraft_io_sim::admin::{AdminCall, Outcome};
use binraft_io_sim::cluster::Sim;
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::seq::SliceRandom;
use rand::Rng;
use std::sync::{Arc, Mutex};

const TEST: &str = "purge_while_reading";

/// The oldest file (its index among binraft's) in which a replica works: what it received
/// last. None before every replica has received something.
fn oldest_read(sim: &Sim) -> Option<usize> {
    let layout = sim.layout.lock();
    sim.replicas.iter().map(|r| r.lock().received.last().and_then(|g| layout.file_index(&g.file))).collect::<Option<Vec<usize>>>()?.into_iter().min()
}

async fn one_seed() -> Report {
    let mut kills = scenario::kill_cycle(4_000, 1_500..4_000, 300..2_000, |sim, rng, _| (0..sim.nodes.len()).collect::<Vec<_>>().choose(rng).copied(), |rng| rng.gen_bool(0.3));
    let mut next = 3_000u64;
    let mut asked: Option<(String, AdminCall)> = None;
    // The newest purge that was done: every member must have removed what is before it.
    let purged_to: Arc<Mutex<Option<String>>> = Arc::default();
    let done = Arc::clone(&purged_to);
    let mut s = Scenario::standard(TEST, move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        kills(sim, now);
        if let Some((file, call)) = &asked {
            let Some(outcome) = call.outcome() else { return };
            sim.note(format!("purge to {file}: {outcome:?}"));
            if matches!(outcome, Outcome::Done(_)) {
                *done.lock().unwrap() = Some(file.clone());
            }
            asked = None;
            next = now + rng.gen_range(1_000..4_000);
            return;
        }
        if now < next {
            return;
        }
        let Some(upto) = oldest_read(sim) else { return };
        let file = sim.layout.lock().files[upto].0.clone();
        let live: Vec<usize> = sim.members().filter(|(_, n)| n.alive).map(|(i, _)| i).collect();
        if let Some(&to) = live.choose(&mut rng) {
            asked = Some((file.clone(), sim.admin(to, &format!("PURGE BINARY LOGS TO '{file}'"))));
        }
    });
    s.end_check = Box::new(move |sim: &Sim| {
        let Some(to) = purged_to.lock().unwrap().clone() else { return Err("no purge was ever done: the run did not test a purge".into()) };
        let layout = sim.layout.lock();
        let upto = layout.file_index(&to).expect("one of binraft's files");
        for (_, n) in sim.members() {
            if let Some((name, _)) = layout.files[..upto].iter().find(|(name, _)| n.disk.visible_len(name).is_some()) {
                return Err(format!("node{} still holds {name} after a purge to {to} was done", n.id));
            }
        }
        Ok(())
    });
    scenario::run(s).await
}

#[test]
fn purges_while_replicas_read_keep_what_they_need() {
    scenario::main(one_seed);
}
