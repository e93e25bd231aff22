//! openraft's state machine over the node's store: a committed entry's groups are written to
//! their binlog files where the primary has them (no sync: the Raft log holds them) and shown to
//! readers; a checkpoint syncs the files and persists the applied log id, the membership and
//! where the store ended (`raft.applied`). A restart cuts the files back to that point
//! ([`open_store`]) and openraft applies the log again from there.
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

/// A snapshot: the store's files and how far each reaches at the snapshot's log id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapshotFiles {
    pub files: Vec<(String, u64)>,
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
    pub cut: binraft_core::store::Cut,
}

/// Cuts the store's directory back to the last checkpoint, before the store opens: whatever
/// was applied after it (unsynced, perhaps torn) is applied again from the log.
pub fn open_store(disk: &Arc<dyn Disk>) -> Result<Restored, String> {
    let (applied, membership, point) = match disk::read_whole(disk.as_ref(), CHECKPOINT).map_err(|e| e.to_string())? {
        None => (None, StoredMembership::default(), None),
        Some(bytes) => {
            let c = Checkpoint::decode(&bytes).map_err(|e| e.to_string())?;
            let a: Applied = postcard::from_bytes(&c.raft).map_err(|e| format!("{CHECKPOINT}: the applied log id does not decode: {e}"))?;
            (a.log_id, a.membership, c.store)
        }
    };
    let cut = binraft_core::store::cut_to(disk.as_ref(), point.as_ref().map(|(f, e)| (f.as_str(), *e))).map_err(|e| format!("{CHECKPOINT}: {e}"))?;
    for f in &cut.removed {
        tracing::info!(file = %f, "raft: removing a file created after the last checkpoint; the log applies it again");
    }
    if let Some((f, size)) = &cut.truncated {
        tracing::info!(file = %f, size, "raft: cutting a file back to the last checkpoint; the log applies the rest again");
    }
    Ok(Restored { applied, membership, cut })
}

pub struct StateMachine {
    store: Store,
    applier: Applier,
    applied: Option<LogId>,
    membership: StoredMembership,
    since_checkpoint: u64,
    last_checkpoint: tokio::time::Instant,
}

fn fatal(what: impl std::fmt::Display) -> io::Error {
    tracing::error!("raft: cannot apply a committed entry, this node stops applying: {what}");
    io::Error::other(what.to_string())
}

impl StateMachine {
    pub fn new(store: Store, restored: &Restored) -> StateMachine {
        StateMachine { store, applier: Applier::new(), applied: restored.applied, membership: restored.membership.clone(), since_checkpoint: 0, last_checkpoint: tokio::time::Instant::now() }
    }

    fn apply_request(&mut self, req: Request) -> Result<(), io::Error> {
        match req {
            Request::CreateFile { name } => self.store.create_file(&name).map_err(|e| fatal(format!("create {name}: {e}"))),
            Request::Groups(groups) => {
                let mut batch = Vec::with_capacity(groups.len());
                let StateMachine { store, applier, since_checkpoint, .. } = self;
                for g in groups {
                    let info = applier.facts(&g, |f, o, l| store.read_sync(f, o, l)).map_err(fatal)?;
                    *since_checkpoint += g.bytes.len() as u64;
                    batch.push((g.file, g.offset, g.bytes.to_vec(), Box::new(info)));
                }
                store.apply_logged(batch).map_err(fatal)
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
        let raft = postcard::to_stdvec(&Applied { log_id: self.applied, membership: self.membership.clone() }).map_err(io::Error::other)?;
        let point = self.store.files().last().map(|f| (f.name.clone(), f.complete_end));
        let c = Checkpoint { raft, store: point };
        disk::write_atomically(self.store.disk().as_ref(), CHECKPOINT, &c.encode()).map_err(|e| io::Error::other(e.to_string()))?;
        self.since_checkpoint = 0;
        self.last_checkpoint = tokio::time::Instant::now();
        Ok(())
    }

    fn snapshot_files(&self) -> SnapshotFiles {
        SnapshotFiles { files: self.store.files().iter().map(|f| (f.name.clone(), f.complete_end)).collect() }
    }
}

/// Builds a snapshot: the files as they are when it is asked for.
pub struct SnapshotBuilder {
    meta: SnapshotMetaOf<Types>,
    files: SnapshotFiles,
}

impl RaftSnapshotBuilder<Types> for SnapshotBuilder {
    type SnapshotData = SnapshotFiles;

    async fn build_snapshot(&mut self) -> io::Result<SnapshotOf<Types, SnapshotFiles>> {
        Ok(openraft::Snapshot { meta: self.meta.clone(), snapshot: self.files.clone() })
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
        while let Some(item) = entries.next().await {
            let (entry, responder) = item?;
            match entry.payload {
                EntryPayload::Blank => {}
                EntryPayload::Normal(req) => self.apply_request(req)?,
                EntryPayload::Membership(m) => self.membership = StoredMembership::new(Some(entry.log_id), m),
            }
            self.applied = Some(entry.log_id);
            if let Some(r) = responder {
                r.send(Response::default());
            }
        }
        if self.since_checkpoint >= CHECKPOINT_BYTES || (self.since_checkpoint > 0 && self.last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL) {
            self.checkpoint()?;
        }
        Ok(())
    }

    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        let meta = SnapshotMetaOf::<Types> { last_log_id: self.applied, last_membership: self.membership.clone() };
        SnapshotBuilder { meta, files: self.snapshot_files() }
    }

    async fn install_snapshot(&mut self, meta: &SnapshotMetaOf<Types>, _snapshot: SnapshotFiles) -> io::Result<()> {
        Err(fatal(format!("a snapshot up to {:?} was sent, and installing snapshots is not supported yet (the log is kept whole)", meta.last_log_id)))
    }

    async fn get_current_snapshot(&mut self) -> io::Result<Option<SnapshotOf<Types, SnapshotFiles>>> {
        Ok(None)
    }
}
