//! openraft's state machine over the node's store: a committed entry's groups are written to
//! their binlog files where the primary has them (no sync: the Raft log holds them) and shown to
//! readers; a checkpoint syncs the files and persists the applied log id, the membership and
//! where the store ended (`raft.applied`). A restart cuts the files back to that point
//! ([`open_store`]) and openraft applies the log again from there.
//!
//! A snapshot is a checkpoint: the files up to its point, which only grow, so building one
//! copies nothing and lets openraft purge the log up to it. A member that needs it receives the
//! files it lacks (or the tails it lacks, checked by CRC: [`super::network`]), and installing it
//! is writing its checkpoint, then taking the directory to it.
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
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotFile {
    pub name: String,
    pub end: u64,
    /// Received: the bytes from this offset on are in [`staged_name`]`(reception, name)`; before it, the
    /// member's own copy (checked by CRC). None: the member holds it up to `end` already.
    pub staged_from: Option<u64>,
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
}

/// The node's store, taken back to its last checkpoint, and that checkpoint's Raft side.
pub struct Restored {
    pub applied: Option<LogId>,
    pub membership: StoredMembership,
    /// The last checkpoint, as a snapshot.
    snapshot: Option<Snapshot>,
}

/// A snapshot's meta, its files, and where the last of them ends.
type Snapshot = (SnapshotMetaOf<Types>, Vec<String>, u64);

/// Cuts the store's directory back to the last checkpoint, before the store opens: whatever
/// was applied after it (unsynced, perhaps torn) is applied again from the log.
pub fn open_store(disk: &Arc<dyn Disk>) -> Result<Restored, String> {
    let (applied, membership, files, last_end) = match disk::read_whole(disk.as_ref(), CHECKPOINT).map_err(|e| e.to_string())? {
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
            (None, StoredMembership::default(), Vec::new(), 0)
        }
        Some(bytes) => {
            let c = Checkpoint::decode(&bytes).map_err(|e| e.to_string())?;
            let a: Applied = postcard::from_bytes(&c.raft).map_err(|e| format!("{CHECKPOINT}: the applied log id does not decode: {e}"))?;
            (a.log_id, a.membership, c.files, c.last_end)
        }
    };
    // Received for a snapshot that was not installed: it will be sent again.
    for name in disk.list().map_err(|e| e.to_string())?.iter().filter(|n| n.starts_with("raft.snap.")) {
        disk::remove_durably(disk.as_ref(), name).map_err(|e| e.to_string())?;
    }
    #[cfg(madsim)]
    if crate::planted::has(crate::planted::Bug::ApplyTwiceAfterRestart) {
        let snapshot = snapshot_of(applied, &membership, &files, last_end);
        return Ok(Restored { applied, membership, snapshot });
    }
    let cut = binraft_core::store::cut_to(disk.as_ref(), &files, last_end).map_err(|e| format!("{CHECKPOINT}: {e}"))?;
    for f in &cut.removed {
        tracing::info!(file = %f, "raft: removing a file created after the last checkpoint; the log applies it again");
    }
    if let Some((f, size)) = &cut.truncated {
        tracing::info!(file = %f, size, "raft: cutting a file back to the last checkpoint; the log applies the rest again");
    }
    let snapshot = snapshot_of(applied, &membership, &files, last_end);
    Ok(Restored { applied, membership, snapshot })
}

/// The snapshot a checkpoint is.
fn snapshot_of(applied: Option<LogId>, membership: &StoredMembership, files: &[String], last_end: u64) -> Option<(SnapshotMetaOf<Types>, Vec<String>, u64)> {
    applied?;
    Some((SnapshotMetaOf::<Types> { last_log_id: applied, last_membership: membership.clone() }, files.to_vec(), last_end))
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
        write_checkpoint(self.store.disk().as_ref(), self.applied, &self.membership, &files, last_end)?;
        self.snapshot = snapshot_of(self.applied, &self.membership, &files, last_end);
        self.since_checkpoint = 0;
        self.last_checkpoint = tokio::time::Instant::now();
        Ok(())
    }

    /// The files of the last checkpoint as a snapshot to send: each as far as it reached then
    /// (files purged since are left out).
    fn current_snapshot(&self) -> Option<SnapshotOf<Types, SnapshotFiles>> {
        let (meta, names, last_end) = self.snapshot.clone()?;
        let have = self.store.files();
        let files = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let end = if i + 1 == names.len() { last_end } else { have.iter().find(|f| f.name == *n)?.complete_end };
                Some(SnapshotFile { name: n.clone(), end, staged_from: None })
            })
            .collect();
        Some(openraft::Snapshot { meta, snapshot: SnapshotFiles { files, reception: 0 } })
    }

    /// Replaces the store with a received snapshot's files: the received bytes go to their
    /// files (tails appended where the member's own copy ends, whole files renamed into place),
    /// everything is synced, then the checkpoint is written (the commit point: a crash before
    /// it leaves the old state, after it the new) and the directory taken to it.
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
        write_checkpoint(d.as_ref(), meta.last_log_id, &meta.last_membership, &names, last_end)?;
        binraft_core::store::cut_to(d.as_ref(), &names, last_end).map_err(|e| io::Error::other(e.to_string()))?;
        self.store.reload().map_err(|e| io::Error::other(e.to_string()))?;
        self.applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        self.applier.reset();
        self.since_checkpoint = 0;
        self.snapshot = snapshot_of(self.applied, &self.membership, &names, last_end);
        tracing::info!(applied = ?meta.last_log_id, files = names.len(), "raft: snapshot installed");
        Ok(())
    }
}

fn write_checkpoint(d: &dyn Disk, applied: Option<LogId>, membership: &StoredMembership, files: &[String], last_end: u64) -> io::Result<()> {
    let raft = postcard::to_stdvec(&Applied { log_id: applied, membership: membership.clone() }).map_err(io::Error::other)?;
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
