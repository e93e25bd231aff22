//! What admins and clients ask of the node beyond the replication protocol: the admin
//! statements (CHANGE MASTER TO, START/STOP/RESET SLAVE, PURGE BINARY LOGS), SHOW BINLOG EVENTS
//! and binlog_gtid_pos(), each read from or applied to the store. What replication statements
//! do to the settings is core's (`binraft_core::upstream::settings`); here it is saved to
//! `replication.toml` and carried out.

use crate::server::Node;
use binraft_core::mysql::errors::ServerError;
use binraft_core::primary::admin::AdminCommand;
use binraft_core::upstream::settings::{self, SettingsError};
use crate::cluster::members::MemberChange;
use std::sync::Arc;

impl Node {
    /// Carries out an admin statement. CHANGE MASTER TO and START / STOP / RESET SLAVE are
    /// decided by core ([`settings`]); this saves what they decide, then acts on it. In a
    /// cluster the statement itself goes through the log (via the leader): every member
    /// decides it against the settings the log has made so far and saves the outcome, and
    /// whichever leads acts on it; a refusal comes back from the leader.
    pub(crate) async fn admin(&self, cmd: AdminCommand) -> Result<(), ServerError> {
        let statement = match &cmd {
            AdminCommand::ChangeMaster(c) => settings::Command::ChangeMaster(c.clone()),
            AdminCommand::StartReplica => settings::Command::Start,
            AdminCommand::StopReplica => settings::Command::Stop,
            AdminCommand::ResetReplica { all } => settings::Command::Reset { all: *all },
            AdminCommand::PurgeTo(file) => {
                let files = self.store.files();
                let Some(upto) = files.iter().position(|f| &f.name == file) else {
                    return Err(ServerError::new(1373, b"HY000", "Target log not found in binlog index"));
                };
                return self.purge(&files[..upto]).await;
            }
            AdminCommand::PurgeBefore(ts) => {
                let files = self.store.files();
                let n = binraft_core::store::binlogs::purgeable_before(&files, *ts);
                return self.purge(&files[..n]).await;
            }
            AdminCommand::AddLearner { node_id, addr } => {
                if !addr.contains(':') {
                    return Err(ServerError::new(1210, b"HY000", format!("Incorrect arguments to BINRAFT ADD LEARNER: {addr:?} is not HOST:PORT of its Raft port")));
                }
                return self.change_members(MemberChange::AddLearner { node_id: *node_id, addr: addr.clone() }).await;
            }
            AdminCommand::Promote { node_id } => return self.change_members(MemberChange::Promote { node_id: *node_id }).await,
            AdminCommand::Remove { node_id } => return self.change_members(MemberChange::Remove { node_id: *node_id }).await,
        };
        let failed = |e: String| ServerError::new(1105, b"HY000", e);
        let Some(c) = &self.cluster else {
            let t = settings::decide(self.replication.current().as_ref(), &statement).map_err(SettingsError::to_server_error)?;
            if let (settings::Command::ChangeMaster(_), Some(r)) = (&statement, &t.settings) {
                tracing::info!(replication = ?r, "CHANGE MASTER TO");
            }
            return self.replication.carry_out(self.store.disk().as_ref(), &t).map_err(failed);
        };
        let r = c.propose_anywhere(binraft_core::cluster::request::Request::Replication(statement)).await.map_err(failed)?;
        match r.refused {
            Some(e) => Err(e.to_server_error()),
            None => Ok(()),
        }
    }

    /// BINRAFT ADD LEARNER / PROMOTE / REMOVE: carried out by the leader (forwarded there), as
    /// the HTTP API's membership calls; refused with the reason when it cannot be done.
    async fn change_members(&self, change: MemberChange) -> Result<(), ServerError> {
        let Some(c) = &self.cluster else {
            return Err(ServerError::new(1105, b"HY000", "a single node: start it with --peers to make a cluster"));
        };
        let done = c.change_members(change).await.map_err(|e| ServerError::new(1105, b"HY000", e))?;
        tracing::info!("membership: {done}");
        Ok(())
    }

    /// The GTID position at `pos` of `file` (binlog_gtid_pos()): the file's starting state,
    /// updated by every GTID before `pos`. `None` when `pos` is not inside the stored file.
    pub(crate) fn gtid_pos_at(&self, file: &str, pos: u64) -> Option<String> {
        let f = self.store.files().iter().find(|f| f.name == file).cloned()?;
        let head = |len: u64| self.store.read_sync(file, 0, usize::try_from(len).ok()?).ok();
        binraft_core::store::index::gtid_pos_at(&f, pos, head).map(|p| p.to_string())
    }

    /// SHOW BINLOG EVENTS: decodes the file's FORMAT_DESCRIPTION, then events from the position,
    /// reading no more of the file than the rows asked for need (at most SHOW_EVENTS_ROWS_MAX).
    pub(crate) fn show_binlog_events(&self, q: &binraft_core::primary::show_events::ShowBinlogEvents) -> Result<binraft_core::mysql::response::ResultSet, ServerError> {
        use binraft_core::primary::show_events;
        let files = self.store.files();
        let f = match &q.file {
            None => files.first(),
            Some(n) => files.iter().find(|f| &f.name == n),
        };
        let Some(f) = f else {
            return Err(ServerError::new(1220, b"HY000", "Error when executing command SHOW BINLOG EVENTS: Could not find target log"));
        };
        let err = |e: &dyn std::fmt::Display| ServerError::new(1220, b"HY000", format!("Error when executing command SHOW BINLOG EVENTS: {e}"));
        // The FORMAT_DESCRIPTION first (it says how to read the rest), then chunks from the position.
        let head = self.store.read_sync(&f.name, 0, 64 * 1024).map_err(|e| err(&e))?;
        let mut dec = binraft_core::binlog::decoder::Decoder::for_file().decode_rows(false);
        let fde = match head.get(4..).map(|h| dec.decode_next(h, 4)) {
            Some(Ok(Some(ev))) => ev,
            Some(Err(e)) => return Err(err(&e)),
            _ => return Err(err(&"the file holds no complete event")),
        };
        let fde_end = 4 + u64::from(fde.header.event_size);
        let mut rows = show_events::Rows::new(q, &f.name);
        let start = if q.from <= 4 {
            rows.push(&fde);
            fde_end
        } else if q.from < fde_end || q.from > f.complete_end {
            return Err(err(&"Wrong offset or I/O error"));
        } else {
            q.from
        };
        let mut stream = binraft_core::binlog::decoder::StreamDecoder::for_events(dec, start);
        let mut off = start;
        while rows.wants_more() && off < f.complete_end {
            let chunk = self.store.read_sync(&f.name, off, 1 << 20).map_err(|e| err(&e))?;
            if chunk.is_empty() {
                break;
            }
            off += chunk.len() as u64;
            stream.handle_bytes(&chunk);
            while let Some(ev) = stream.poll_event() {
                let ev = ev.map_err(|e| err(&e))?;
                if !rows.push(&ev) {
                    break;
                }
            }
        }
        Ok(rows.finish())
    }

    /// PURGE BINARY LOGS: refused while a replica reads one of `files` (in a cluster, a replica
    /// of any member); in a cluster it goes through the log, and every member purges.
    async fn purge(&self, files: &[Arc<binraft_core::store::index::FileSummary>]) -> Result<(), ServerError> {
        let reading = self.files_read().await.map_err(|e| ServerError::new(1105, b"HY000", e))?;
        if let Some(f) = files.iter().find(|f| reading.contains(&f.name)) {
            return Err(ServerError::new(1378, b"HY000", format!("A purgeable log is in use, will not purge: a replica is reading {}", f.name)));
        }
        let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
        self.purge_files(names).await.map_err(|e| ServerError::new(1105, b"HY000", format!("purge failed: {e}")))
    }

    /// The files replicas read now: this node's, and in a cluster every member's.
    pub(crate) async fn files_read(&self) -> Result<std::collections::BTreeSet<String>, String> {
        let mut reading: std::collections::BTreeSet<String> = self.dump_files.lock().map(|d| d.values().cloned().collect()).unwrap_or_default();
        if let Some(c) = &self.cluster {
            reading.extend(c.files_read_elsewhere().await?);
        }
        Ok(reading)
    }

    /// Removes the oldest files `names`: here, or in a cluster through the log on every member.
    pub(crate) async fn purge_files(&self, names: Vec<String>) -> Result<(), String> {
        if names.is_empty() {
            return Ok(());
        }
        match &self.cluster {
            None => {
                self.store.purge(&names).map_err(|e| e.to_string())?;
                tracing::info!(files = ?names, "purged binary logs");
                Ok(())
            }
            Some(c) => c.propose_anywhere(binraft_core::cluster::request::Request::Purge { files: names }).await.map(drop),
        }
    }
}

/// Keeps the binlog to `retention`: every second, the files beyond it go the way PURGE BINARY
/// LOGS takes them (never one a replica of any member reads). In a cluster only the leader
/// decides, and every member purges through the log.
pub(crate) async fn retain(node: Arc<Node>, retention: binraft_core::store::binlogs::Retention) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut failing = false;
    loop {
        tick.tick().await;
        if node.cluster.as_ref().is_some_and(|c| c.role() != "leader") {
            continue;
        }
        let now = crate::server::now_secs();
        let files = node.store.files();
        if retention.purgeable(&files, now, &|_| false) == 0 {
            continue;
        }
        let outcome = match node.files_read().await {
            Ok(reading) => {
                let n = retention.purgeable(&files, now, &|name| reading.contains(name));
                let names: Vec<String> = files[..n].iter().map(|f| f.name.clone()).collect();
                if !names.is_empty() {
                    tracing::info!(files = ?names, keep_files = retention.keep_files, expire_logs_seconds = retention.expire_logs_seconds, "retention: purging binary logs");
                }
                node.purge_files(names).await
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                tracing::warn!("retention: cannot purge now: {e}");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// `binlog_gtid_pos('file', pos)` in a query: its arguments.
pub(crate) fn binlog_gtid_pos_args(q: &str) -> Option<(String, u64)> {
    let lower = q.to_ascii_lowercase();
    let at = lower.find("binlog_gtid_pos(")? + "binlog_gtid_pos(".len();
    let end = q[at..].find(')')? + at;
    let (file, pos) = q[at..end].split_once(',')?;
    let file = file.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
    Some((file, pos.trim().parse().ok()?))
}
