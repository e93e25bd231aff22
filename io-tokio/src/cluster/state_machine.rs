//! openraft's state machine over the node's store: a committed entry's groups are written to
//! their binlog files where the primary has them (no sync: the Raft log holds them) and shown to
//! readers; a checkpoint syncs the files and persists the applied log id, the membership, the
//! replication settings the log made (CHANGE MASTER TO, START/STOP SLAVE) and where the store
//! ended (`raft.applied`). A restart cuts the files back to that point ([`open_store`]), takes
//! the settings back to it, and openraft applies the log again from there: every statement
//! after it is decided again against the settings it was first decided against.
//!
//! A snapshot is a checkpoint: the files up to its point, which only grow, so building one
//! copies nothing and lets openraft purge the log up to it. A member that needs it receives the
//! files it lacks (or the tails it lacks, checked by CRC: [`super::network`]) and the
//! checkpoint's settings, and installing it is writing its checkpoint, then taking the
//! directory and the settings to it. (Before the settings went with it, a member that caught up
//! by snapshot across a CHANGE MASTER TO kept the old primary and, once leader, pulled from it
//! or from nothing: the simulator found it with a primary that drops its connections.)
//!
//! Every node applies the same entries to the same places, so its files are byte-identical to
//! every other node's. An entry that does not land where its file ends is a bug or damage: the
//! node stops applying (openraft's fatal state) and says why, never repairs it silently.

use super::types::{LogId, StoredMembership, Types};
use crate::store::Store;
use binraft_core::cluster::apply::Applier;
use binraft_core::cluster::checkpoint::{Checkpoint, CHECKPOINT};
use binraft_core::cluster::request::{Request, Response};
use binraft_core::store::disk::{self, Disk};
use binraft_core::upstream::UpstreamSettings;
use futures::{Stream, StreamExt};
use openraft::storage::{EntryResponder, RaftStateMachine};
use openraft::type_config::alias::{SnapshotMetaOf, SnapshotOf};
use openraft::{EntryPayload, OptionalSend, RaftSnapshotBuilder};
use std::io;
use std::sync::Arc;

/// Applied bytes after which the files are synced and the point persisted: what a restart
/// applies again from the log at most.
const CHECKPOINT_BYTES: u64 = 64 << 20;
/// And at least this often while entries are applied.
const CHECKPOINT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// A snapshot: the store's files and how far each reaches at the snapshot's log id. On the
/// member receiving it, where each file's received bytes wait.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotFiles {
    pub files: Vec<SnapshotFile>,
    /// On the member receiving it: which reception the staged bytes belong to (a leader that
    /// gives up on a send and starts another must not write over the bytes of one being
    /// installed). 0 on the leader.
    pub reception: u64,
    /// The replication settings at the snapshot's point, as the log made them.
    replication: Option<UpstreamSettings>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotFile {
    pub name: String,
    pub end: u64,
    /// Received: the bytes from this offset on are in [`staged_name`]`(reception, name)`; before it, the
    /// member's own copy (checked by CRC). None: the member holds it up to `end` already.
    pub staged_from: Option<u64>,
}

impl SnapshotFiles {
    /// The files of a snapshot being received, with the settings its end brought.
    pub fn received(files: Vec<SnapshotFile>, reception: u64, replication: Option<UpstreamSettings>) -> SnapshotFiles {
        SnapshotFiles { files, reception, replication }
    }

    /// The replication settings at the snapshot's point.
    pub fn replication(&self) -> Option<&UpstreamSettings> {
        self.replication.as_ref()
    }
}

/// Where the bytes of `name` received for a snapshot wait (a name no binlog file can take),
/// one set of names per reception.
pub fn staged_name(reception: u64, name: &str) -> String {
    format!("raft.snap.{reception}.{name}")
}

/// The Raft side of a checkpoint.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound = "")]
struct Applied {
    log_id: Option<LogId>,
    membership: StoredMembership,
    replication: Option<UpstreamSettings>,
}

/// The Raft side of a checkpoint written before it carried the replication settings (read
/// only: the settings then come from `replication.toml`).
#[derive(serde::Deserialize)]
#[serde(bound = "")]
struct AppliedWithoutSettings {
    log_id: Option<LogId>,
    membership: StoredMembership,
}

/// The node's store, taken back to its last checkpoint, and that checkpoint's Raft side.
pub struct Restored {
    pub applied: Option<LogId>,
    pub membership: StoredMembership,
    /// The replication settings at the checkpoint; `None` when no checkpoint holds them (none
    /// yet, or one written before checkpoints carried them).
    pub replication: Option<Option<UpstreamSettings>>,
    /// The last checkpoint, as a snapshot.
    snapshot: Option<Snapshot>,
}

/// A snapshot: its meta, its files, where the last of them ends, and the settings then.
#[derive(Clone)]
struct Snapshot {
    meta: SnapshotMetaOf<Types>,
    files: Vec<String>,
    last_end: u64,
    replication: Option<UpstreamSettings>,
}

/// Cuts the store's directory back to the last checkpoint, before the store opens: whatever
/// was applied after it (unsynced, perhaps torn) is applied again from the log.
pub fn open_store(disk: &Arc<dyn Disk>) -> Result<Restored, String> {
    let (applied, membership, replication, files, last_end) = match disk::read_whole(disk.as_ref(), CHECKPOINT).map_err(|e| e.to_string())? {
        None => {
            // No checkpoint: a member that has applied nothing durably yet, whose files the log
            // writes again. A directory with binlog files and no Raft state at all is a single
            // node's store: cutting it would delete its files, so it is refused.
            let names = disk.list().map_err(|e| e.to_string())?;
            let raft_state = names.iter().any(|n| n.starts_with("raft-log.") || n.starts_with("raft."));
            let index = disk::read_whole(disk.as_ref(), binraft_core::store::names::INDEX).map_err(|e| e.to_string())?;
            if !raft_state && index.is_some_and(|b| b.iter().any(|c| !c.is_ascii_whitespace())) {
                return Err("this data directory holds binlog files but no cluster state (a single node's store): a cluster member starts on an empty data directory and receives the files from the cluster".into());
            }
            (None, StoredMembership::default(), None, Vec::new(), 0)
        }
        Some(bytes) => {
            let c = Checkpoint::decode(&bytes).map_err(|e| e.to_string())?;
            let (log_id, membership, replication) = match postcard::from_bytes::<Applied>(&c.raft) {
                Ok(a) => (a.log_id, a.membership, Some(a.replication)),
                Err(e) => match postcard::from_bytes::<AppliedWithoutSettings>(&c.raft) {
                    Ok(a) => (a.log_id, a.membership, None),
                    Err(_) => return Err(format!("{CHECKPOINT}: the applied log id does not decode: {e}")),
                },
            };
            (log_id, membership, replication, c.files, c.last_end)
        }
    };
    let settings = replication.clone().flatten();
    // Received for a snapshot that was not installed: it will be sent again.
    for name in disk.list().map_err(|e| e.to_string())?.iter().filter(|n| n.starts_with("raft.snap.")) {
        disk::remove_durably(disk.as_ref(), name).map_err(|e| e.to_string())?;
    }
    #[cfg(madsim)]
    if crate::planted::has(crate::planted::Bug::ApplyTwiceAfterRestart) {
        let snapshot = snapshot_of(applied, &membership, &files, last_end, settings);
        return Ok(Restored { applied, membership, replication, snapshot });
    }
    let cut = binraft_core::store::cut_to(disk.as_ref(), &files, last_end).map_err(|e| format!("{CHECKPOINT}: {e}"))?;
    for f in &cut.removed {
        tracing::info!(file = %f, "raft: removing a file created after the last checkpoint; the log applies it again");
    }
    if let Some((f, size)) = &cut.truncated {
        tracing::info!(file = %f, size, "raft: cutting a file back to the last checkpoint; the log applies the rest again");
    }
    let snapshot = snapshot_of(applied, &membership, &files, last_end, settings);
    Ok(Restored { applied, membership, replication, snapshot })
}

/// The snapshot a checkpoint is.
fn snapshot_of(applied: Option<LogId>, membership: &StoredMembership, files: &[String], last_end: u64, replication: Option<UpstreamSettings>) -> Option<Snapshot> {
    applied?;
    let meta = SnapshotMetaOf::<Types> { last_log_id: applied, last_membership: membership.clone() };
    Some(Snapshot { meta, files: files.to_vec(), last_end, replication })
}

pub struct StateMachine {
    store: Store,
    /// CHANGE MASTER and START/STOP SLAVE from the log are carried out here.
    replication: Arc<crate::upstream::Replication>,
    applier: Applier,
    applied: Option<LogId>,
    membership: StoredMembership,
    since_checkpoint: u64,
    last_checkpoint: tokio::time::Instant,
    /// The last checkpoint: the snapshot a member that needs one is sent.
    snapshot: Option<Snapshot>,
    /// A checkpoint failed (a sync of the binlog files): what the files hold is not to be
    /// trusted, and nothing more is applied or sent.
    broken: Option<String>,
}

fn fatal(what: impl std::fmt::Display) -> io::Error {
    tracing::error!("raft: cannot apply a committed entry, this node stops applying: {what}");
    io::Error::other(what.to_string())
}

impl StateMachine {
    pub fn new(store: Store, restored: &Restored, replication: Arc<crate::upstream::Replication>) -> StateMachine {
        StateMachine { store, replication, applier: Applier::new(), applied: restored.applied, membership: restored.membership.clone(), since_checkpoint: 0, last_checkpoint: tokio::time::Instant::now(), snapshot: restored.snapshot.clone(), broken: None }
    }

    fn apply_request(&mut self, req: Request) -> Result<Response, io::Error> {
        let done = |r: Result<(), io::Error>| r.map(|()| Response::default());
        match req {
            Request::CreateFile { name } => done(self.store.create_file(&name).map_err(|e| fatal(format!("create {name}: {e}")))),
            Request::Replication(cmd) => match binraft_core::upstream::settings::decide(self.replication.current().as_ref(), &cmd) {
                Ok(t) => {
                    tracing::info!(settings = ?t.settings, session = ?t.session, "raft: replication settings from the log");
                    done(self.replication.carry_out(self.store.disk().as_ref(), &t).map_err(fatal))
                }
                Err(e) => {
                    tracing::info!(statement = ?cmd, refused = ?e, "raft: a replication statement from the log, refused by the settings in force");
                    Ok(Response { refused: Some(e) })
                }
            },
            Request::Purge { files } => {
                // Those still at the head of the store (applied again after a restart, some are
                // gone already), never the last file; then a checkpoint, so that no snapshot
                // lists them any more.
                let have = self.store.files();
                let n = have.iter().take(have.len().saturating_sub(1)).take_while(|f| files.contains(&f.name)).count();
                let names: Vec<String> = have[..n].iter().map(|f| f.name.clone()).collect();
                if !names.is_empty() {
                    self.store.purge(&names).map_err(|e| fatal(format!("purge {}: {e}", names.join(", "))))?;
                    tracing::info!(files = ?names, "raft: purged binary logs, as the cluster decided");
                    self.checkpoint()?;
                }
                Ok(Response::default())
            }
            Request::Groups(groups) => {
                let mut batch = Vec::with_capacity(groups.len());
                let StateMachine { store, applier, since_checkpoint, .. } = self;
                for g in groups {
                    #[cfg(madsim)]
                    if crate::planted::has(crate::planted::Bug::ServeUncommitted) && store.complete_end(&g.file).is_some_and(|e| e >= g.offset + g.bytes.len() as u64) {
                        continue;
                    }
                    let info = applier.facts(&g, |f, o, l| store.read_sync(f, o, l)).map_err(fatal)?;
                    *since_checkpoint += g.bytes.len() as u64;
                    batch.push((g.file, g.offset, g.bytes.to_vec(), Box::new(info)));
                }
                done(store.apply_logged(batch).map_err(fatal))
            }
        }
    }

    /// Syncs what was applied to its files, then persists the point: from there the log may be
    /// forgotten. Not while a group's pieces are only partly applied (the point would cut them).
    fn checkpoint(&mut self) -> io::Result<()> {
        if self.store.in_group() {
            return Ok(());
        }
        self.store.sync_written().map_err(|e| io::Error::other(e.to_string()))?;
        let files: Vec<String> = self.store.files().iter().map(|f| f.name.clone()).collect();
        let last_end = self.store.files().last().map_or(0, |f| f.complete_end);
        let replication = self.replication.current();
        write_checkpoint(self.store.disk().as_ref(), self.applied, &self.membership, replication.clone(), &files, last_end)?;
        self.snapshot = snapshot_of(self.applied, &self.membership, &files, last_end, replication);
        self.since_checkpoint = 0;
        self.last_checkpoint = tokio::time::Instant::now();
        Ok(())
    }

    /// The files of the last checkpoint as a snapshot to send: each as far as it reached then
    /// (files purged since are left out).
    fn current_snapshot(&self) -> Option<SnapshotOf<Types, SnapshotFiles>> {
        let Snapshot { meta, files: names, last_end, replication } = self.snapshot.clone()?;
        let have = self.store.files();
        let files = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let end = if i + 1 == names.len() { last_end } else { have.iter().find(|f| f.name == *n)?.complete_end };
                Some(SnapshotFile { name: n.clone(), end, staged_from: None })
            })
            .collect();
        Some(openraft::Snapshot { meta, snapshot: SnapshotFiles { files, reception: 0, replication } })
    }

    /// Replaces the store with a received snapshot's files: the received bytes go to their
    /// files (tails appended where the member's own copy ends, whole files renamed into place),
    /// everything is synced, then the checkpoint is written (the commit point: a crash before
    /// it leaves the old state, after it the new) and the directory and the replication
    /// settings taken to it.
    fn install(&mut self, meta: &SnapshotMetaOf<Types>, snap: SnapshotFiles) -> io::Result<()> {
        let d = Arc::clone(self.store.disk());
        let err = |e: binraft_core::store::DiskError| io::Error::other(e.to_string());
        for f in &snap.files {
            match f.staged_from {
                None => {}
                Some(0) => {
                    let staged = d.open(&staged_name(snap.reception, &f.name)).map_err(err)?;
                    staged.set_len(f.end).map_err(err)?;
                    staged.sync_data().map_err(err)?;
                    d.rename(&staged_name(snap.reception, &f.name), &f.name).map_err(err)?;
                }
                Some(from) => {
                    let staged = d.open(&staged_name(snap.reception, &f.name)).map_err(err)?;
                    let target = d.open(&f.name).map_err(err)?;
                    let mut at = from;
                    while at < f.end {
                        let n = (f.end - at).min(8 << 20) as usize;
                        target.write_at(at, &staged.read_at(at - from, n).map_err(err)?).map_err(err)?;
                        at += n as u64;
                    }
                    target.set_len(f.end).map_err(err)?;
                    target.sync_data().map_err(err)?;
                    drop(staged);
                    d.remove(&staged_name(snap.reception, &f.name)).map_err(err)?;
                }
            }
        }
        d.sync_dir().map_err(err)?;
        let names: Vec<String> = snap.files.iter().map(|f| f.name.clone()).collect();
        let last_end = snap.files.last().map_or(0, |f| f.end);
        write_checkpoint(d.as_ref(), meta.last_log_id, &meta.last_membership, snap.replication.clone(), &names, last_end)?;
        binraft_core::store::cut_to(d.as_ref(), &names, last_end).map_err(|e| io::Error::other(e.to_string()))?;
        self.store.reload().map_err(|e| io::Error::other(e.to_string()))?;
        self.replication.carry_out(d.as_ref(), &settings_of_snapshot(snap.replication.clone())).map_err(io::Error::other)?;
        self.applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.applier.reset();
        self.since_checkpoint = 0;
        tracing::info!(applied = ?meta.last_log_id, files = names.len(), replication = ?snap.replication, "raft: snapshot installed");
        self.snapshot = snapshot_of(self.applied, &self.membership, &names, last_end, snap.replication);
        Ok(())
    }
}

/// What installing a snapshot does to the replication settings: they become the snapshot's,
/// saved, and the pull (which runs only on the leader) follows them.
fn settings_of_snapshot(settings: Option<UpstreamSettings>) -> binraft_core::upstream::settings::Transition {
    use binraft_core::upstream::settings::{Session, Status, Transition};
    let (session, status) = match &settings {
        None => (Session::Stop, Status::Cleared),
        Some(s) if s.running => (Session::Start, Status::Unchanged),
        Some(_) => (Session::Stop, Status::Stopped),
    };
    Transition { settings, save: true, session, status }
}

fn write_checkpoint(d: &dyn Disk, applied: Option<LogId>, membership: &StoredMembership, replication: Option<UpstreamSettings>, files: &[String], last_end: u64) -> io::Result<()> {
    let raft = postcard::to_stdvec(&Applied { log_id: applied, membership: membership.clone(), replication }).map_err(io::Error::other)?;
    let c = Checkpoint { raft, files: files.to_vec(), last_end };
    disk::write_atomically(d, CHECKPOINT, &c.encode()).map_err(|e| io::Error::other(e.to_string()))
}

/// Builds a snapshot: the checkpoint taken when it was asked for.
pub struct SnapshotBuilder {
    snapshot: Option<SnapshotOf<Types, SnapshotFiles>>,
    /// Why the checkpoint it was built on failed.
    failed: Option<String>,
}

impl RaftSnapshotBuilder<Types> for SnapshotBuilder {
    type SnapshotData = SnapshotFiles;

    async fn build_snapshot(&mut self) -> io::Result<SnapshotOf<Types, SnapshotFiles>> {
        if let Some(e) = &self.failed {
            return Err(io::Error::other(format!("the checkpoint for a snapshot failed: {e}")));
        }
        self.snapshot.clone().ok_or_else(|| io::Error::other("no checkpoint yet to make a snapshot of"))
    }
}

impl RaftStateMachine<Types> for StateMachine {
    type SnapshotData = SnapshotFiles;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> io::Result<(Option<LogId>, StoredMembership)> {
        Ok((self.applied, self.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> io::Result<()>
    where
        Strm: Stream<Item = Result<EntryResponder<Types>, io::Error>> + Unpin + OptionalSend,
    {
        if let Some(e) = &self.broken {
            return Err(fatal(format!("a checkpoint failed before: {e}")));
        }
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            let response = match entry.payload {
                EntryPayload::Blank => Response::default(),
                EntryPayload::Normal(req) => self.apply_request(req)?,
                EntryPayload::Membership(m) => {
                    self.membership = StoredMembership::new(Some(entry.log_id), m);
                    Response::default()
                }
            };
            self.applied = Some(entry.log_id);
            if let Some(r) = responder {
                r.send(response);
            }
        }
        if self.since_checkpoint >= CHECKPOINT_BYTES || (self.since_checkpoint > 0 && self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL) {
            self.checkpoint()?;
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        // A checkpoint now (none while a group's pieces are half applied: then the last one).
        // One that fails (a failed sync loses the pages it was to write: the files as read
        // now are not what was applied) stops this member: the builder fails, so Raft stops,
        // binraft ends, and a restart recovers from what the disk and the log hold. Before,
        // it was a warning, and the member went on serving files that had lost pages (the
        // simulator found it: `leader_disk_faults` seed 9).
        if let Err(e) = self.checkpoint() {
            tracing::error!("raft: checkpoint for a snapshot: {e}; this member stops");
            self.broken = Some(e.to_string());
        }
        SnapshotBuilder { snapshot: self.current_snapshot(), failed: self.broken.clone() }
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMetaOf<Types>, snapshot: SnapshotFiles) -> io::Result<()> {
        self.install(meta, snapshot).map_err(fatal)
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<SnapshotOf<Types, SnapshotFiles>>> {
        Ok(self.current_snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use binraft_core::primary::admin::ChangeMaster;
    use binraft_core::store::mem_disk::MemDisk;
    use binraft_core::upstream::settings::Command;

    /// A member over `disk`, as a node starts one: the directory taken back to its checkpoint,
    /// the settings to the checkpoint's.
    fn member(disk: &Arc<dyn Disk>) -> StateMachine {
        let restored = open_store(disk).unwrap();
        let store = Store::open_on(Arc::clone(disk), 0).unwrap();
        let replication = Arc::new(crate::upstream::Replication::new(restored.replication.clone().flatten()));
        StateMachine::new(store, &restored, replication)
    }

    /// Applies `cmd` as the entry at `index`, as openraft's apply does.
    fn apply(sm: &mut StateMachine, index: u64, cmd: Command) -> Response {
        let r = sm.apply_request(Request::Replication(cmd)).unwrap();
        sm.applied = Some(openraft::testing::log_id::<Types>(1, 1, index));
        r
    }

    fn to_new_primary() -> Command {
        Command::ChangeMaster(ChangeMaster { host: Some("10.0.0.101".into()), port: Some(3306), user: Some("repl".into()), use_gtid: Some("slave_pos".into()), ..Default::default() })
    }

    fn host_and_running(s: Option<UpstreamSettings>) -> Option<(String, bool)> {
        s.map(|s| (s.host, s.running))
    }

    #[test]
    fn a_restart_takes_the_replication_settings_back_to_the_checkpoint() {
        let disk: Arc<dyn Disk> = Arc::new(MemDisk::new());
        let mut a = member(&disk);
        assert_eq!(apply(&mut a, 1, to_new_primary()).refused, None);
        assert_eq!(apply(&mut a, 2, Command::Start).refused, None);
        a.checkpoint().unwrap();
        // After the checkpoint: applied again from the log after a restart, so not in it.
        assert_eq!(apply(&mut a, 3, Command::Stop).refused, None);
        assert_eq!(host_and_running(a.replication.current()), Some(("10.0.0.101".into(), false)));
        drop(a);
        let mut b = member(&disk);
        assert_eq!(b.applied.map(|l| l.index), Some(2));
        assert_eq!(host_and_running(b.replication.current()), Some(("10.0.0.101".into(), true)));
        // The log's entry 3, applied again, is decided against the settings it was first
        // decided against: the same outcome.
        assert_eq!(apply(&mut b, 3, Command::Stop).refused, None);
        assert_eq!(host_and_running(b.replication.current()), Some(("10.0.0.101".into(), false)));
    }

    #[test]
    fn a_snapshot_brings_the_replication_settings_to_the_member_installing_it() {
        let leader_disk: Arc<dyn Disk> = Arc::new(MemDisk::new());
        let mut leader = member(&leader_disk);
        apply(&mut leader, 1, to_new_primary());
        apply(&mut leader, 2, Command::Start);
        let snapshot = leader.checkpoint_as_snapshot();
        assert_eq!(host_and_running(snapshot.snapshot.replication().cloned()), Some(("10.0.0.101".into(), true)));

        // A member that never applied entries 1 and 2 (purged on the leader) gets them with
        // the snapshot: were they left behind, it would pull from nothing once it led.
        let disk: Arc<dyn Disk> = Arc::new(MemDisk::new());
        let mut m = member(&disk);
        assert!(m.replication.current().is_none());
        let sent = SnapshotFiles::received(snapshot.snapshot.files.clone(), 1, snapshot.snapshot.replication().cloned());
        m.install(&snapshot.meta, sent).unwrap();
        assert_eq!(host_and_running(m.replication.current()), Some(("10.0.0.101".into(), true)));
        assert_eq!(host_and_running(m.replication.target.get().0), Some(("10.0.0.101".into(), true)), "the pull follows them once this member leads");
        assert_eq!(host_and_running(crate::config::load_replication(disk.as_ref()).unwrap()), Some(("10.0.0.101".into(), true)));
        // And they are its checkpoint's: a restart keeps them.
        drop(m);
        let m = member(&disk);
        assert_eq!(m.applied.map(|l| l.index), Some(2));
        assert_eq!(host_and_running(m.replication.current()), Some(("10.0.0.101".into(), true)));
    }

    impl StateMachine {
        /// What openraft's snapshot builder is given: a checkpoint now, as a snapshot.
        fn checkpoint_as_snapshot(&mut self) -> SnapshotOf<Types, SnapshotFiles> {
            self.checkpoint().unwrap();
            self.current_snapshot().unwrap()
        }
    }
}
