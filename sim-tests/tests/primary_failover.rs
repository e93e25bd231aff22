//! The primary's failover: at a seeded moment the primary dies for good and its replica, which
//! holds every transaction it wrote (in files of its own names and sizes), is promoted and goes
//! on writing, its GTIDs continuing. A DBA then points binraft at it with STOP SLAVE, CHANGE
//! MASTER TO ... MASTER_USE_GTID=slave_pos and START SLAVE, each asked of a random live member
//! and asked again until its answer says it is done, while members are killed (sometimes with a
//! power cut) and cut off. binraft must check the new primary's history, close the file it
//! was in with a ROTATE of its own and go on in files of its own (the layout the invariants
//! learn and check, [`binraft_io_sim::layout`]), and replicas, by GTID and by file and
//! position, must go on without a gap or a duplicate. What binraft served or ACKed before the
//! failover must be there after it, before its own files begin. At the end, the cluster holds
//! everything the new primary wrote.
#![cfg(madsim)]

use binraft_io_sim::admin::AdminCall;
use binraft_io_sim::cluster::{Sim, PRIMARY_PORT, STANDBY_IP};
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::seq::SliceRandom;
use rand::Rng;

const TEST: &str = "primary_failover";

/// The DBA's statements, in order.
fn statements() -> Vec<String> {
    vec!["STOP SLAVE".into(), format!("CHANGE MASTER TO MASTER_HOST='{STANDBY_IP}', MASTER_PORT={PRIMARY_PORT}, MASTER_USE_GTID=slave_pos"), "START SLAVE".into()]
}

async fn one_seed() -> Report {
    let mut kills = scenario::kill_cycle(3_000, 2_000..5_000, 300..2_500, |sim, rng, _| sim.members().map(|(i, _)| i).collect::<Vec<_>>().choose(rng).copied(), |rng| rng.gen_bool(0.4));
    let (fail_at, dba_after) = {
        let mut rng = madsim::rand::thread_rng();
        (rng.gen_range(5_000..16_000u64), rng.gen_range(200..3_000u64))
    };
    let mut next_cut = 4_000u64;
    let mut isolated: Option<(usize, u64)> = None;
    let sql = statements();
    let mut at = 0;
    let mut asked: Option<AdminCall> = None;
    let mut next_ask = fail_at + dba_after;
    let mut s = Scenario::standard(TEST, move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        kills(sim, now);
        // A member cut off from the others for a while, now and then.
        match isolated {
            Some((_, until)) if now >= until => {
                sim.heal_network();
                isolated = None;
                next_cut = now + rng.gen_range(2_000..6_000);
            }
            None if now >= next_cut => {
                let i = rng.gen_range(0..sim.nodes.len());
                sim.isolate(i, rng.gen_bool(0.3));
                isolated = Some((i, now + rng.gen_range(500..2_500)));
            }
            _ => {}
        }
        if sim.former.is_empty() {
            if now >= fail_at {
                sim.fail_over();
            }
            return;
        }
        if let Some(call) = &asked {
            let Some(outcome) = call.outcome() else { return };
            sim.note(format!("{}: {outcome:?}", sql[at]));
            asked = None;
            if outcome.done_or(&[]) {
                at += 1;
            }
            next_ask = now + rng.gen_range(100..1_000);
            return;
        }
        if at >= sql.len() || now < next_ask {
            return;
        }
        let live: Vec<usize> = sim.members().filter(|(_, n)| n.alive).map(|(i, _)| i).collect();
        if let Some(&to) = live.choose(&mut rng) {
            asked = Some(sim.admin(to, &sql[at]));
        }
    });
    s.end_check = Box::new(|sim: &Sim| {
        if sim.former.is_empty() {
            return Err("the primary never failed over".into());
        }
        let layout = sim.layout.lock();
        let Some(cut) = layout.cut else { return Err("binraft never wrote a file of its own after the change of primary".into()) };
        let total = sim.primary.lock().log.txns.len();
        if layout.txns.len() < total {
            return Err(format!("binraft's files hold {} of the new primary's {total} transactions (its own files begin after {})", layout.txns.len(), cut.txns));
        }
        Ok(())
    });
    scenario::run(s).await
}

#[test]
fn the_cluster_follows_the_primarys_failover_and_loses_nothing() {
    scenario::main(one_seed);
}
