//! Partitions during membership changes: two spare machines join the three voters as learners
//! and are promoted, and two of the first voters are removed (the leader too, when the draw
//! picks it), each change asked of a random member by admin SQL while members are cut off from
//! each other or from everyone, for a second or two at a time, again and again. A change may
//! be refused (no leader, too few voters answering) or get no answer (it may then still be
//! done): it is asked again until its answer says it is done. While one is on its way, what was
//! served must be durable on a majority of the old voters or of the new.
#![cfg(madsim)]

use binraft_io_sim::admin::AdminCall;
use binraft_io_sim::cluster::{raft_addr, Role, Sim, SimConfig};
use binraft_sim_tests::scenario::{self, Report, Scenario};
use rand::seq::SliceRandom;
use rand::Rng;

const TEST: &str = "membership_change";
const CHAOS_MS: u64 = 40_000;
const CALM_FROM_MS: u64 = 28_000;

/// The changes, in order.
#[derive(Debug, Clone, Copy)]
enum Step {
    AddLearner(usize),
    Promote(usize),
    /// Removes one of the first three voters, drawn when the step is first asked.
    Remove(Option<usize>),
}

/// The voters' ids, as the harness has seen them changed.
fn voters(sim: &Sim) -> Vec<u64> {
    sim.nodes.iter().filter(|n| n.role == Role::Voter).map(|n| n.id).collect()
}

struct Changes {
    steps: Vec<Step>,
    at: usize,
    /// The statement on its way: whom it changes, and the call.
    asked: Option<(usize, AdminCall)>,
    next_ms: u64,
}

impl Changes {
    fn play(&mut self, sim: &mut Sim, now: u64, rng: &mut impl Rng) {
        if let Some((target, call)) = &self.asked {
            let Some(outcome) = call.outcome() else { return };
            let target = *target;
            self.asked = None;
            self.next_ms = now + rng.gen_range(300..1_500);
            let done = outcome.done_or(&["member already", "voter already", "is not a member"]);
            sim.note(format!("{:?}: {outcome:?}", self.steps[self.at]));
            if !done {
                return;
            }
            match self.steps[self.at] {
                Step::AddLearner(_) => sim.nodes[target].role = Role::Learner,
                Step::Promote(_) => {
                    sim.nodes[target].role = Role::Voter;
                    sim.voters_are(voters(sim));
                }
                Step::Remove(_) => {
                    sim.nodes[target].role = Role::Removed;
                    // Decommissioned: the machine goes away.
                    if sim.nodes[target].alive {
                        sim.kill(target);
                    }
                    sim.voters_are(voters(sim));
                }
            }
            self.at += 1;
            return;
        }
        if self.at >= self.steps.len() || now < self.next_ms {
            return;
        }
        // The statement goes to any live member: a follower forwards it to the leader.
        let live: Vec<usize> = sim.members().filter(|(_, n)| n.alive).map(|(i, _)| i).collect();
        let Some(&to) = live.choose(rng) else { return };
        let (target, sql) = match self.steps[self.at] {
            Step::AddLearner(i) => {
                if sim.nodes[i].role == Role::Spare {
                    sim.start_spare(i);
                }
                (i, format!("BINRAFT ADD LEARNER {} '{}'", sim.nodes[i].id, raft_addr(sim.nodes[i].id)))
            }
            Step::Promote(i) => {
                let mut after = voters(sim);
                after.push(sim.nodes[i].id);
                sim.voters_may_become(after);
                (i, format!("BINRAFT PROMOTE {}", sim.nodes[i].id))
            }
            Step::Remove(drawn) => {
                let i = drawn.unwrap_or_else(|| *(0..3).filter(|&i| sim.nodes[i].role == Role::Voter).collect::<Vec<_>>().choose(rng).expect("a first voter is left"));
                self.steps[self.at] = Step::Remove(Some(i));
                let after: Vec<u64> = voters(sim).into_iter().filter(|&v| v != sim.nodes[i].id).collect();
                sim.voters_may_become(after);
                (i, format!("BINRAFT REMOVE {}", sim.nodes[i].id))
            }
        };
        self.asked = Some((target, sim.admin(to, &sql)));
    }
}

/// Cuts a random member off, from the others or from everyone, for a while, again and again.
struct Partitions {
    next_ms: u64,
    heal_at: Option<u64>,
}

impl Partitions {
    fn play(&mut self, sim: &mut Sim, now: u64, rng: &mut impl Rng) {
        if let Some(at) = self.heal_at {
            if now >= at {
                sim.heal_network();
                self.heal_at = None;
                self.next_ms = now + rng.gen_range(500..2_500);
            }
            return;
        }
        if now >= self.next_ms {
            let live: Vec<usize> = sim.members().filter(|(_, n)| n.alive).map(|(i, _)| i).collect();
            if let Some(&i) = live.choose(rng) {
                sim.isolate(i, rng.gen_bool(0.5));
                self.heal_at = Some(now + rng.gen_range(500..2_000));
            }
        }
    }
}

async fn one_seed() -> Report {
    // The order is drawn: a removal may come before or after the promotions.
    let mut steps = vec![Step::AddLearner(3), Step::Promote(3), Step::AddLearner(4), Step::Promote(4)];
    {
        let mut rng = madsim::rand::thread_rng();
        for _ in 0..2 {
            let at = rng.gen_range(1..=steps.len());
            steps.insert(at, Step::Remove(None));
        }
    }
    let mut changes = Changes { steps, at: 0, asked: None, next_ms: 2_000 };
    let mut partitions = Partitions { next_ms: 1_000, heal_at: None };
    let mut s = Scenario::standard(TEST, move |sim: &mut Sim, now: u64| {
        let mut rng = madsim::rand::thread_rng();
        changes.play(sim, now, &mut rng);
        // The last 12 s are calm, for the changes left to be done.
        if now < CALM_FROM_MS || partitions.heal_at.is_some() {
            partitions.play(sim, now, &mut rng);
        }
        if now >= CHAOS_MS {
            assert!(changes.at == changes.steps.len(), "seed {}: changes never done: {:?}\nreplay: {}", sim.seed, &changes.steps[changes.at..], scenario::replay_command(sim.seed, TEST));
        }
    });
    s.config = SimConfig { spares: 2, ..s.config };
    s.chaos_ms = CHAOS_MS;
    scenario::run(s).await
}

#[test]
fn membership_changes_under_partitions_lose_nothing() {
    scenario::main(one_seed);
}
