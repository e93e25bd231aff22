//! A leader that stalls: every few seconds the node that pulls from the primary is paused (a
//! long GC pause, a frozen VM) for 0.5 to 8 s, longer than an election at times, then runs
//! again where it stopped, unaware that time went by: its timers, the primary's bytes and the
//! other members' messages all arrive at once. Now and then the network is slow as well
//! (every packet 10 to 300 ms) for a few seconds. A stalled leader must give way when it
//! wakes up in a later term: no second puller in its term, nothing served or ACKed that a
//! majority had not made durable, nothing stored twice, and the pull goes on from the new
//! leader. At the end, the leadership moved while a leader was stalled at least once.
#![cfg(madsim)]

use binraft_io_sim::cluster::Sim;
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::Rng;
use std::cell::Cell;
use std::rc::Rc;

const TEST: &str = "paused_leader";

/// A stalled leader: until when, and whether another node took over the pull meanwhile.
struct Stall {
    node: usize,
    until: u64,
    counted: bool,
}

async fn one_seed() -> Report {
    let mut next = 3_000u64;
    let mut stalled: Option<Stall> = None;
    let (mut slow_next, mut slow_until) = (5_000u64, None::<u64>);
    // How many times another node started pulling while the leader was stalled.
    let moved = Rc::new(Cell::new(0usize));
    let seen = moved.clone();
    let mut s = Scenario::standard(TEST, move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        match slow_until {
            Some(until) if now >= until => {
                sim.heal_network();
                slow_until = None;
                slow_next = now + rng.gen_range(3_000..10_000);
            }
            None if now >= slow_next => {
                let top = rng.gen_range(20..300);
                sim.set_latency(10..top);
                slow_until = Some(now + rng.gen_range(1_000..5_000));
            }
            _ => {}
        }
        match &mut stalled {
            Some(st) => {
                if !st.counted && sim.puller().is_some_and(|p| p != st.node) {
                    st.counted = true;
                    moved.set(moved.get() + 1);
                }
                if now >= st.until {
                    sim.resume(st.node);
                    stalled = None;
                    next = now + rng.gen_range(1_000..4_000);
                }
            }
            None if now >= next => {
                if let Some(node) = sim.puller() {
                    sim.pause(node);
                    stalled = Some(Stall { node, until: now + rng.gen_range(500..8_000), counted: false });
                }
            }
            None => {}
        }
    });
    s.end_check = Box::new(move |_: &Sim| if seen.get() == 0 { Err("the leadership never moved while a leader was stalled".into()) } else { Ok(()) });
    scenario::run(s).await
}

#[test]
fn a_stalled_leader_gives_way_when_it_wakes_and_nothing_is_lost() {
    scenario::main(one_seed);
}
