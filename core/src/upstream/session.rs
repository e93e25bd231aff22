//! One connection to the primary, from login to the end of the stream.

use crate::binlog::checksum::ChecksumAlg;
use crate::binlog::decoder::Decoder;
use crate::binlog::events::EventBody;
use crate::binlog::EventType;
use crate::gtid::mysql::BinaryFormat;
use crate::gtid::GtidSet;
use crate::mysql::client::{ClientConfig, ClientConn, ClientOutput};
use crate::mysql::command::{dump_flags, BinlogDump, BinlogDumpGtid, Command, RegisterSlave};
use crate::store::groups::GroupTracker;
use crate::store::index::{Appended, GroupFacts};
use super::ack::AppendId;
use super::error::UpstreamError;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    pub user: String,
    pub password: crate::mysql::auth::Password,
    /// binraft's server_id as the primary's replica.
    pub server_id: u32,
    /// The primary sends a heartbeat after this long without events.
    pub heartbeat_period_ms: u64,
    /// Talk to the primary over TLS.
    pub tls: bool,
    /// Login and setup, from the session's start to the binlog request, must be done by then.
    pub login_timeout_ms: u64,
    /// Ask for the binlog by GTID instead of by file and position: from a MariaDB primary by
    /// `@slave_connect_state` (the store's GTID position), from a MySQL primary by
    /// COM_BINLOG_DUMP_GTID (the store's executed GTID set: auto-position).
    pub use_gtid: bool,
}

/// How much of one group the session holds before it hands the group out in pieces.
pub const GROUP_BYTES_MAX: usize = 64 << 20;

/// Semi-sync: the byte in front of every event, and the flag that asks for an ACK.
const SEMI_SYNC_MAGIC: u8 = 0xef;
const SEMI_SYNC_NEED_ACK: u8 = 0x01;
const SEMI_SYNC_PROBE: &str = "SELECT @@GLOBAL.rpl_semi_sync_master_enabled";

/// Where the store ends: the last file and the end of its last complete group, or nothing yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    Empty,
    At { file: String, offset: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamOutput {
    Send(Vec<u8>),
    /// Logged in; the primary's version.
    Connected { server_version: String },
    /// Create `file` holding only the binlog magic (4 bytes) and make it the current one.
    NewFile { file: String },
    /// Append whole groups to `file`, which must end at `offset`. `id` numbers the appends of
    /// this session from 1 up, in stream order: committing append `id` commits all before it.
    Append { id: AppendId, file: String, offset: u64, bytes: Vec<u8>, info: Box<Appended> },
    /// A piece of a group larger than the session holds in memory (`group_bytes_max`), at
    /// `offset` of `file`: the store keeps it and shows it only with the group's `Append`, which
    /// carries the rest and the facts of the whole group. A session that ends before that
    /// leaves pieces the next session overwrites.
    AppendPart { file: String, offset: u64, bytes: Vec<u8> },
    /// The semi-sync ACK for the transaction that append `after` ends: write `bytes` to the
    /// primary only once every append up to `after` is committed (durable on one node,
    /// committed by Raft in a cluster), never merely because the append was issued before it.
    /// [`HeldAcks`](super::ack::HeldAcks) holds them until then.
    Ack { after: AppendId, bytes: Vec<u8> },
    /// The session cannot go on: the driver ends it and reconnects when
    /// [`Reconnect`](super::reconnect::Reconnect) says.
    Failed(UpstreamError),
    /// Run the TLS handshake now, then call [`UpstreamSession::tls_established`].
    StartTls,
    /// An event the store already holds (a GTID dump starts from the file's beginning): its
    /// bytes at `offset` of `file` must be these, or the primary's history is not binraft's.
    Verify { file: String, offset: u64, bytes: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Login,
    Setup(usize),
    Register,
    Streaming,
    Done,
}

/// One session with the primary. The driver feeds it bytes ([`UpstreamSession::handle_bytes`])
/// and time ([`UpstreamSession::handle_timeout`] once [`UpstreamSession::poll_timeout`] has
/// passed), and after each input polls [`UpstreamSession::poll_output`] until `None`. It runs
/// the outputs in order, except that an [`UpstreamOutput::Ack`] waits for its append to be
/// committed however late that is; a [`UpstreamOutput::Failed`] ends the session.
#[derive(Debug)]
pub struct UpstreamSession {
    cfg: UpstreamConfig,
    client: ClientConn,
    phase: Phase,
    resume: Resume,
    setup: Vec<String>,
    mariadb: bool,
    decoder: Decoder,
    groups: GroupTracker,
    /// The file being written and where its stored part ends.
    file: Option<String>,
    file_end: u64,
    /// The next file named by a real ROTATE.
    next_file: Option<String>,
    /// The group being received: its bytes not yet handed out, from `group_start`, after the
    /// `group_parted` bytes of it handed out as pieces.
    group: Vec<u8>,
    group_start: u64,
    group_parted: u64,
    /// A group grows in memory up to this, then goes out in pieces ([`UpstreamOutput::AppendPart`]).
    group_bytes_max: usize,
    facts: GroupFacts,
    out: VecDeque<UpstreamOutput>,
    /// Milliseconds (driver's clock) of the session's start and of the last bytes from the primary.
    started_ms: u64,
    last_heard_ms: u64,
    /// The primary has semi-sync on and binraft asked for it.
    semi_sync: bool,
    /// The primary asked for an ACK in the group being received.
    ack_due: bool,
    /// The id of the last append emitted.
    last_append: AppendId,
    /// Where each stored file ends, and the store's GTID position, for a GTID resume.
    stored: std::collections::BTreeMap<String, u64>,
    gtid_pos: String,
    /// The MySQL GTIDs the store holds (its files' PREVIOUS_GTIDS and GTIDs), for auto-position.
    gtid_executed: GtidSet,
}

impl UpstreamSession {
    pub fn new(cfg: UpstreamConfig, resume: Resume, now_ms: u64) -> Self {
        let client = ClientConn::new(ClientConfig { user: cfg.user.clone(), password: cfg.password.clone(), max_packet: (1 << 30) + 8192, tls: cfg.tls });
        UpstreamSession {
            cfg,
            client,
            phase: Phase::Login,
            resume,
            setup: Vec::new(),
            mariadb: false,
            decoder: Decoder::for_stream(ChecksumAlg::Crc32).skim_rows(true),
            groups: GroupTracker::new(),
            file: None,
            file_end: 0,
            next_file: None,
            group: Vec::new(),
            group_start: 0,
            group_parted: 0,
            group_bytes_max: GROUP_BYTES_MAX,
            facts: GroupFacts::new(),
            out: VecDeque::new(),
            started_ms: now_ms,
            last_heard_ms: now_ms,
            semi_sync: false,
            ack_due: false,
            last_append: 0,
            stored: std::collections::BTreeMap::new(),
            gtid_pos: String::new(),
            gtid_executed: GtidSet::new(),
        }
    }

    /// What the store holds: each file's end, the MariaDB GTID position (`domain-server-seq,...`)
    /// and the MySQL GTID set.
    /// How much of a group is held in memory before it goes out in pieces.
    pub fn set_group_bytes_max(&mut self, bytes: usize) {
        self.group_bytes_max = bytes.max(1);
    }

    pub fn with_stored(mut self, ends: std::collections::BTreeMap<String, u64>, gtid_pos: String, gtid_executed: GtidSet) -> Self {
        self.stored = ends;
        self.gtid_pos = gtid_pos;
        self.gtid_executed = gtid_executed;
        self
    }

    /// Whether the dump is asked for by GTID. A store without GTIDs of the primary's flavour
    /// starts by file and position (from the beginning when empty), which is the same stream.
    fn gtid_mode(&self) -> bool {
        self.cfg.use_gtid && if self.mariadb { !self.gtid_pos.is_empty() } else { !self.gtid_executed.is_empty() }
    }

    #[must_use]
    pub fn poll_output(&mut self) -> Option<UpstreamOutput> {
        while let Some(o) = self.client.poll_output() {
            self.on_client(o);
        }
        self.out.pop_front()
    }

    /// How long the primary may be silent while streaming: three heartbeat periods (one lost
    /// heartbeat is not silence), and never under three seconds.
    fn silence_max_ms(&self) -> u64 {
        3 * self.cfg.heartbeat_period_ms.max(1000)
    }

    /// When [`UpstreamSession::handle_timeout`] must be called next (driver's clock, ms): the
    /// login deadline until the binlog is asked for, then the moment the primary's silence
    /// becomes too long. `None` once the session has failed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.phase {
            Phase::Login | Phase::Setup(_) | Phase::Register => Some(self.started_ms.saturating_add(self.cfg.login_timeout_ms)),
            Phase::Streaming => Some(self.last_heard_ms.saturating_add(self.silence_max_ms())),
            Phase::Done => None,
        }
    }

    /// Time has passed: a missed deadline fails the session.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let Some(deadline) = self.poll_timeout() else { return };
        if now_ms < deadline {
            return;
        }
        let e = match self.phase {
            Phase::Streaming => UpstreamError::Silent { silent_ms: now_ms - self.last_heard_ms, heartbeat_period_ms: self.cfg.heartbeat_period_ms },
            _ => UpstreamError::LoginTimeout { timeout_ms: self.cfg.login_timeout_ms },
        };
        self.fail(e);
    }

    /// Whether the session has stored anything: a session that streamed was a good connection,
    /// so reconnecting after it starts again from the shortest backoff.
    pub fn appended_any(&self) -> bool {
        self.last_append > 0
    }

    pub fn tls_established(&mut self) {
        self.client.tls_established();
    }

    pub fn handle_bytes(&mut self, bytes: &[u8], now_ms: u64) {
        if self.phase == Phase::Done {
            // Failed: nothing the primary says now is acted on.
            return;
        }
        self.last_heard_ms = now_ms;
        self.client.handle_bytes(bytes);
    }

    fn fail(&mut self, e: UpstreamError) {
        if self.phase != Phase::Done {
            self.phase = Phase::Done;
            self.out.push_back(UpstreamOutput::Failed(e));
        }
    }

    fn on_client(&mut self, o: ClientOutput) {
        match o {
            ClientOutput::Send(b) => self.out.push_back(UpstreamOutput::Send(b)),
            ClientOutput::StartTls => self.out.push_back(UpstreamOutput::StartTls),
            ClientOutput::Ready(g) => {
                self.mariadb = g.server_version.contains("MariaDB");
                self.out.push_back(UpstreamOutput::Connected { server_version: g.server_version.clone() });
                let period_ns = self.cfg.heartbeat_period_ms * 1_000_000;
                self.setup = vec![
                    "SET @master_binlog_checksum= @@global.binlog_checksum".into(),
                    "SELECT @master_binlog_checksum".into(),
                    format!("SET @master_heartbeat_period= {period_ns}"),
                ];
                if self.mariadb {
                    self.setup.push("SET @mariadb_slave_capability=4".into());
                    if self.gtid_mode() {
                        self.setup.push(format!("SET @slave_connect_state='{}'", self.gtid_pos));
                        self.setup.push("SET @slave_gtid_strict_mode=1".into());
                        self.setup.push("SET @slave_gtid_ignore_duplicates=0".into());
                    }
                } else {
                    self.setup.push("SELECT @@GLOBAL.GTID_MODE".into());
                    // A stable replica UUID (from server_id): a primary ends an older dump of the
                    // same UUID, so a half-dead connection of ours never lingers there.
                    let uuid = crate::gtid::mysql::Uuid::of_server_id(self.cfg.server_id);
                    self.setup.push(format!("SET @slave_uuid= '{uuid}', @replica_uuid= '{uuid}'"));
                }
                // Semi-sync if the primary has it on: binraft then ACKs what it has stored.
                self.setup.push(SEMI_SYNC_PROBE.into());
                self.phase = Phase::Setup(0);
                self.client.query(&self.setup[0].clone());
            }
            ClientOutput::Done(rows) => match self.phase {
                Phase::Setup(i) => {
                    if self.setup[i] == SEMI_SYNC_PROBE {
                        let on = rows.as_ref().and_then(|r| r.scalar()).unwrap_or_default();
                        if on == "1" || on.eq_ignore_ascii_case("ON") {
                            self.setup.push("SET @rpl_semi_sync_slave= 1".into());
                        }
                    } else if self.setup[i] == "SET @rpl_semi_sync_slave= 1" {
                        self.semi_sync = true;
                    }
                    if self.setup[i] == "SELECT @master_binlog_checksum" {
                        let alg = rows.and_then(|r| r.scalar()).unwrap_or_default();
                        let alg = if alg.eq_ignore_ascii_case("CRC32") { ChecksumAlg::Crc32 } else { ChecksumAlg::None };
                        self.decoder = Decoder::for_stream(alg).skim_rows(true);
                    }
                    if i + 1 < self.setup.len() {
                        self.phase = Phase::Setup(i + 1);
                        self.client.query(&self.setup[i + 1].clone());
                    } else {
                        self.phase = Phase::Register;
                        self.client.send_command(&Command::RegisterSlave(RegisterSlave {
                            server_id: self.cfg.server_id,
                            host: String::new(),
                            user: String::new(),
                            password: Vec::new(),
                            port: 0,
                        }));
                    }
                }
                Phase::Register => {
                    let (file, pos) = match &self.resume {
                        _ if self.gtid_mode() => (String::new(), 4),
                        Resume::Empty => (String::new(), 4),
                        Resume::At { file, offset } => (file.clone(), *offset),
                    };
                    let Ok(position) = u32::try_from(pos) else {
                        return self.fail(UpstreamError::OffsetTooLarge { file, offset: pos });
                    };
                    if let (Resume::At { file, offset }, false) = (&self.resume, self.gtid_mode()) {
                        let (file, offset) = (file.clone(), *offset);
                        // The file the store's last ROTATE names may not exist yet (a crash
                        // between storing the ROTATE and creating it): created here if so.
                        self.start_file(file);
                        self.file_end = offset;
                    }
                    self.phase = Phase::Streaming;
                    if self.gtid_mode() && !self.mariadb {
                        // Auto-position: the primary starts in the newest file whose earlier GTIDs
                        // the store has all of, and skips the transactions it holds.
                        let tagged = self.gtid_executed.entries().any(|(_, tag, _)| !tag.is_untagged());
                        self.client.send_command(&Command::BinlogDumpGtid(BinlogDumpGtid {
                            flags: dump_flags::THROUGH_GTID,
                            server_id: self.cfg.server_id,
                            file: String::new(),
                            position: 4,
                            gtids: self.gtid_executed.clone(),
                            gtid_format: if tagged { BinaryFormat::Tagged } else { BinaryFormat::Untagged },
                        }));
                        return;
                    }
                    self.client.send_command(&Command::BinlogDump(BinlogDump {
                        position,
                        flags: dump_flags::SEND_ANNOTATE_ROWS,
                        server_id: self.cfg.server_id,
                        file,
                    }));
                }
                _ => self.fail(UpstreamError::UnexpectedAnswer),
            },
            ClientOutput::Refused(_) if matches!(self.phase, Phase::Setup(i) if self.setup[i] == SEMI_SYNC_PROBE) => {
                // No semi-sync on this primary (MySQL without the plugin): go on without it.
                self.on_client(ClientOutput::Done(None));
            }
            ClientOutput::Refused(error) => {
                let request = match self.phase {
                    Phase::Setup(i) => format!("'{}'", self.setup[i]),
                    Phase::Register => "COM_REGISTER_SLAVE".into(),
                    _ => "the binlog request".into(),
                };
                self.fail(UpstreamError::Refused { request, error });
            }
            ClientOutput::Event(e) => self.on_event(e),
            ClientOutput::EndOfStream => self.fail(UpstreamError::EndOfStream),
            ClientOutput::Fatal(e) => self.fail(UpstreamError::Connection(e)),
        }
    }

    fn on_event(&mut self, mut raw: Vec<u8>) {
        if self.phase == Phase::Done {
            // Failed: events already read behind the failure are not acted on.
            return;
        }
        if self.semi_sync {
            if raw.len() < 2 || raw[0] != SEMI_SYNC_MAGIC {
                return self.fail(UpstreamError::NoSemiSyncHeader);
            }
            if raw[1] & SEMI_SYNC_NEED_ACK != 0 {
                self.ack_due = true;
            }
            raw.drain(..2);
        }
        let ev = match self.decoder.decode_next(&raw, 0) {
            Ok(Some(ev)) if ev.header.event_size as usize == raw.len() => ev,
            Ok(_) => return self.fail(UpstreamError::NotOneEvent { len: raw.len() }),
            Err(e) => return self.fail(UpstreamError::BadEvent(e)),
        };
        let artificial = ev.header.is_artificial();
        match (&ev.body, artificial) {
            (EventBody::Rotate(r), true) => {
                // The stream (re)starts in this file.
                let name = String::from_utf8_lossy(&r.next_file).into_owned();
                if self.next_file.as_deref() == Some(name.as_str()) {
                    self.next_file = None;
                }
                if self.file.as_deref() != Some(name.as_str()) {
                    self.start_file(name);
                }
                return;
            }
            (_, true) => return, // artificial GTID_LIST, heartbeats: not stored
            _ => {}
        }
        if ev.kind == EventType::HEARTBEAT || ev.kind == EventType::HEARTBEAT_V2 {
            return;
        }
        if ev.kind == EventType::FORMAT_DESCRIPTION {
            if let Some(n) = self.next_file.take() {
                self.start_file(n);
            }
            if ev.header.log_pos == 0 {
                // Sent ahead of a mid-file start: the store already has it.
                return;
            }
        }
        let Some(file) = self.file.clone() else { return self.fail(UpstreamError::EventBeforeRotate) };
        // Each event goes where the primary has it: log_pos is its end.
        let start = u64::from(ev.header.log_pos).saturating_sub(raw.len() as u64);
        let in_group = !self.group.is_empty() || self.group_parted > 0;
        if ev.header.log_pos != 0 && u64::from(ev.header.log_pos) <= self.file_end && !in_group {
            // Already stored (a GTID dump restarts at the file's beginning): only checked.
            self.groups.observe(&ev);
            if let EventBody::Rotate(r) = &ev.body {
                // Still the way to the next file: its FORMAT_DESCRIPTION starts it, or it would
                // be taken for this file's own and checked against it.
                self.next_file = Some(String::from_utf8_lossy(&r.next_file).into_owned());
            }
            self.out.push_back(UpstreamOutput::Verify { file, offset: start, bytes: raw });
            return;
        }
        let received_end = self.file_end + self.group_parted + self.group.len() as u64;
        if ev.header.log_pos != 0 && start != received_end {
            return self.fail(UpstreamError::NotContiguous { file, offset: start, stored_end: received_end });
        }
        if !in_group {
            self.group_start = self.file_end;
        }
        self.group.extend_from_slice(&raw);
        self.facts.observe(&ev);
        if self.groups.observe(&ev) {
            let bytes = std::mem::take(&mut self.group);
            let info = self.facts.finish();
            let whole = std::mem::take(&mut self.group_parted) + bytes.len() as u64;
            self.file_end += whole;
            let end = self.group_start + bytes.len() as u64;
            self.last_append += 1;
            let id = self.last_append;
            self.out.push_back(UpstreamOutput::Append { id, file: file.clone(), offset: self.group_start, bytes, info: Box::new(info) });
            // A group's TABLE_MAPs come before its rows: none is needed after it, so the
            // decoder's table cache stays as small as one group.
            self.decoder.forget_tables();
            if std::mem::take(&mut self.ack_due) {
                // Framed now, sent by the driver once append `id` is committed: never through
                // the client's queue, whose bytes go out as soon as they are polled.
                let mut ack = vec![SEMI_SYNC_MAGIC];
                ack.extend_from_slice(&end.to_le_bytes());
                ack.extend_from_slice(file.as_bytes());
                let bytes = self.client.frame_semi_sync_ack(&ack);
                self.out.push_back(UpstreamOutput::Ack { after: id, bytes });
            }
        } else if self.group.len() >= self.group_bytes_max {
            // Too large to hold: this much goes out now, shown by the store only with the rest.
            let bytes = std::mem::take(&mut self.group);
            let offset = self.group_start;
            self.group_start += bytes.len() as u64;
            self.group_parted += bytes.len() as u64;
            self.out.push_back(UpstreamOutput::AppendPart { file: file.clone(), offset, bytes });
        }
        if let EventBody::Rotate(r) = &ev.body {
            self.next_file = Some(String::from_utf8_lossy(&r.next_file).into_owned());
        }
    }

    fn start_file(&mut self, name: String) {
        if let Err(why) = crate::store::names::check_binlog_name(&name) {
            // A ROTATE from the primary (or from anyone in the middle) names a path or one of
            // binraft's own files: nothing more of this stream is stored.
            self.file = None;
            return self.fail(UpstreamError::BadFileName { name, why });
        }
        self.group.clear();
        self.group_parted = 0;
        self.facts = GroupFacts::new();
        self.groups = GroupTracker::new();
        self.file = Some(name.clone());
        // A file the store has already goes on from its end; a new one is created.
        match self.stored.get(&name) {
            Some(&end) => self.file_end = end,
            None => {
                self.file_end = 4;
                self.stored.insert(name.clone(), 4);
                self.out.push_back(UpstreamOutput::NewFile { file: name });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(now_ms: u64) -> UpstreamSession {
        let cfg = UpstreamConfig { user: "repl".into(), password: "pw".into(), server_id: 2, heartbeat_period_ms: 1000, tls: false, use_gtid: true, login_timeout_ms: 5000 };
        UpstreamSession::new(cfg, Resume::Empty, now_ms)
    }

    #[test]
    fn a_primary_that_never_greets_fails_the_login_at_its_deadline() {
        let mut s = session(1000);
        assert_eq!(s.poll_output(), None);
        assert_eq!(s.poll_timeout(), Some(6000));
        s.handle_timeout(5999);
        assert_eq!(s.poll_output(), None, "not yet");
        // Bytes that do not finish the login do not move the login deadline.
        s.handle_bytes(&[0x10, 0, 0], 5500);
        assert_eq!(s.poll_timeout(), Some(6000));
        s.handle_timeout(6000);
        assert_eq!(s.poll_output(), Some(UpstreamOutput::Failed(UpstreamError::LoginTimeout { timeout_ms: 5000 })));
        assert_eq!(s.poll_timeout(), None, "a failed session has no deadline");
        s.handle_timeout(60_000);
        assert_eq!(s.poll_output(), None, "it fails once");
    }
}
