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
use std::collections::{BTreeMap, VecDeque};

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
    /// binraft writes its own file layout: since a change of primary, the primary's
    /// transactions go into files binraft names and begins and ends itself, at its own
    /// positions, rather than the primary's files byte for byte (see [`OwnLayout`]).
    pub own_layout: bool,
}

/// The store's last file, as a session in binraft's own layout takes it over: it closes it with
/// a ROTATE of its own (unless it is closed already, or still empty) and goes on in the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastFile {
    pub name: String,
    /// The end of its last whole group: the ROTATE goes there.
    pub end: u64,
    pub checksum: ChecksumAlg,
    /// The file its closing ROTATE names, when it has one.
    pub next_file: Option<String>,
}

/// What says a transaction is the same one on two servers, whatever each wrote around it:
/// per event (ANNOTATE_ROWS aside, which a server writes or not by its own setting), its type,
/// timestamp and origin server id, and for a statement its text, for a table map its table.
/// Positions, checksums, table ids, XIDs and row images (a replica logs rows by its own
/// binlog_row_image) are not compared.
pub type Fingerprint = Vec<(u8, u32, u32, Vec<u8>)>;

fn fingerprint_of(ev: &crate::binlog::event::Event) -> Option<(u8, u32, u32, Vec<u8>)> {
    if ev.kind == EventType::ANNOTATE_ROWS {
        return None;
    }
    let text = match &ev.body {
        EventBody::Query(q) => q.query.clone(),
        EventBody::TableMap(t) => [t.schema.as_slice(), b".", t.table.as_slice()].concat(),
        _ => Vec::new(),
    };
    Some((ev.kind.0, ev.header.timestamp, ev.header.server_id, text))
}

/// What [`HistoryCheck::txns`] holds of a transaction: its [`Fingerprint`], hashed.
pub fn fingerprint_hash(fp: &Fingerprint) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    fp.hash(&mut h);
    h.finish()
}

/// Collects a binlog file's MariaDB transactions as [`HistoryCheck::txns`] holds them, fed the
/// file's events in order.
#[derive(Debug, Default)]
pub struct HistoryTxns {
    groups: GroupTracker,
    /// The transaction going by: its domain and its fingerprint so far.
    open: Option<(u32, Fingerprint)>,
    pub txns: BTreeMap<u32, VecDeque<u64>>,
}

impl HistoryTxns {
    pub fn observe(&mut self, ev: &crate::binlog::event::Event) {
        if let EventBody::MariaGtid(g) = &ev.body {
            self.open = Some((g.domain, Vec::new()));
        }
        if let Some((_, fp)) = self.open.as_mut() {
            fp.extend(fingerprint_of(ev));
        }
        if self.groups.observe(ev) {
            if let Some((domain, fp)) = self.open.take() {
                self.txns.entry(domain).or_default().push_back(fingerprint_hash(&fp));
            }
        }
    }
}

/// How a session in binraft's own layout checks that a new primary holds binraft's history,
/// not only its GTIDs: it asks for the binlog from `from_state` (the GTID state at the start of
/// binraft's newest file that holds a transaction), so that the primary sends that file's
/// transactions again, and each must be binraft's own, in its domain's order (`txns`: per
/// GTID domain, the [`fingerprint_hash`] of each of binraft's transactions in that file, oldest
/// first; domains may interleave otherwise, as a replica applying them in parallel writes
/// them), before the primary's new transactions of that domain. Comparing only the first let
/// through a primary whose history differed after it: two servers set up alike, whose first
/// transactions fell in the same second (io-tokio/tests/live.rs, now and then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCheck {
    pub from_state: String,
    pub txns: BTreeMap<u32, VecDeque<u64>>,
}

/// binraft's own layout, after a change of primary. A promoted replica holds the same
/// transactions as the old primary in files of its own names, at other positions: binraft
/// follows it by GTID, checks first that it holds every transaction binraft does, and writes
/// what it receives into files of binraft's numbering (`primary-bin.000007` after
/// `primary-bin.000006`). Each file begins with the primary's FORMAT_DESCRIPTION and binraft's
/// own GTID_LIST (or PREVIOUS_GTIDS) and BINLOG_CHECKPOINT, holds the primary's transactions
/// with their end positions (`log_pos`) and checksums rewritten for binraft's file, and ends
/// with a ROTATE of binraft's. A session begins a new file; so does each ROTATE of the primary.
/// Semi-sync ACKs still name the primary's own file and position, as it expects.
#[derive(Debug)]
struct OwnLayout {
    /// The store's last file, until the session's first file begins.
    last: Option<LastFile>,
    /// A new file begins at the primary's next FORMAT_DESCRIPTION.
    rotate_due: bool,
    /// The checksum of the file being written (its FORMAT_DESCRIPTION's).
    alg: ChecksumAlg,
    /// Where the primary is: its file and the end of its last event.
    primary_file: String,
    primary_end: u64,
    /// The GTIDs binraft holds so far: what its next GTID_LIST or PREVIOUS_GTIDS says.
    mariadb_state: crate::gtid::MariaGtidPos,
    mysql_state: GtidSet,
    /// What the store held as the session began: a transaction of these, sent again for the
    /// history check, is not stored again.
    held: crate::gtid::MariaGtidPos,
    /// The history check, while binraft's transactions of some domain are still to come again.
    check: Option<HistoryCheck>,
    /// A transaction sent again for the history check: its domain and fingerprint so far.
    resent: Option<(u32, Fingerprint)>,
    /// The primary's FORMAT_DESCRIPTION that begins binraft's next file, once a transaction
    /// binraft does not hold comes: a session that receives none begins no file.
    pending_fde: Option<(crate::binlog::event::Event, Vec<u8>)>,
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
    /// binraft's own layout (after a change of primary), when the store holds a file to go on from.
    own: Option<OwnLayout>,
    /// The query that checks a new primary holds every transaction binraft does.
    continuity_query: Option<&'static str>,
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
            own: None,
            continuity_query: None,
        }
    }

    /// The store's last file, for a session in binraft's own layout
    /// ([`UpstreamConfig::own_layout`]), which goes on after it; without it (an empty store)
    /// the session stores the primary's files as they are. Call after [`Self::with_stored`].
    pub fn with_last_file(mut self, last: Option<LastFile>, check: Option<HistoryCheck>) -> Self {
        let held = crate::gtid::MariaGtidPos::parse(&self.gtid_pos).unwrap_or_default();
        self.own = match last {
            Some(last) if self.cfg.own_layout => Some(OwnLayout {
                held,
                check,
                resent: None,
                pending_fde: None,
                last: Some(last),
                rotate_due: true,
                alg: ChecksumAlg::None,
                primary_file: String::new(),
                primary_end: 0,
                mariadb_state: crate::gtid::MariaGtidPos::parse(&self.gtid_pos).unwrap_or_default(),
                mysql_state: self.gtid_executed.clone(),
            }),
            _ => None,
        };
        self
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
                        // binraft's own layout asks from further back, to check the history.
                        let from = self.own.as_ref().and_then(|o| o.check.as_ref()).map_or(self.gtid_pos.as_str(), |c| c.from_state.as_str());
                        self.setup.push(format!("SET @slave_connect_state='{from}'"));
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
                if self.own.is_some() {
                    // A new primary must hold every transaction binraft does.
                    let q = if self.mariadb { "SELECT @@GLOBAL.gtid_binlog_pos" } else { "SELECT @@GLOBAL.gtid_executed" };
                    self.continuity_query = Some(q);
                    self.setup.push(q.into());
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
                    if Some(self.setup[i].as_str()) == self.continuity_query {
                        let theirs = rows.as_ref().and_then(|r| r.scalar()).unwrap_or_default();
                        if let Some(missing) = self.missing_on_primary(&theirs) {
                            return self.fail(UpstreamError::PrimaryLacks { missing });
                        }
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
                    if self.own.is_some() && !self.gtid_mode() {
                        return self.fail(UpstreamError::NewPrimaryNeedsGtid);
                    }
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
        if self.own.is_some() {
            return self.on_own_event(&ev, raw);
        }
        let artificial = ev.header.is_artificial();
        match (&ev.body, artificial) {
            (EventBody::Rotate(r), true) => {
                // The stream (re)starts in this file.
                let name = String::from_utf8_lossy(&r.next_file).into_owned();
                if let (None, Resume::At { file, .. }, true) = (&self.file, &self.resume, self.gtid_mode()) {
                    // A GTID dump starts past the store's last file, which has no end: that
                    // end (a ROTATE or STOP) only a dump by file and position sends.
                    if *file != name && self.stored.contains_key(file) && !self.stored.contains_key(&name) {
                        let e = UpstreamError::TailMissing { file: file.clone(), next: name };
                        return self.fail(e);
                    }
                }
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
        let ack_at = (file.clone(), received_end + raw.len() as u64);
        self.receive(file, &ev, raw, ack_at);
        if let EventBody::Rotate(r) = &ev.body {
            self.next_file = Some(String::from_utf8_lossy(&r.next_file).into_owned());
        }
    }

    /// Adds `raw` (the event `ev`, at the end of what was received of `file`) to the group being
    /// received; a whole group goes out as an append, then its ACK if the primary asked for one,
    /// naming the primary's `ack_at` (its file, and the end of the group there).
    fn receive(&mut self, file: String, ev: &crate::binlog::event::Event, raw: Vec<u8>, ack_at: (String, u64)) {
        let in_group = !self.group.is_empty() || self.group_parted > 0;
        if !in_group {
            self.group_start = self.file_end;
        }
        self.group.extend_from_slice(&raw);
        self.facts.observe(ev);
        if self.groups.observe(ev) {
            let bytes = std::mem::take(&mut self.group);
            let info = self.facts.finish();
            let whole = std::mem::take(&mut self.group_parted) + bytes.len() as u64;
            self.file_end += whole;
            self.last_append += 1;
            let id = self.last_append;
            if let Some(own) = self.own.as_mut() {
                for g in &info.mariadb_gtids {
                    own.mariadb_state.update(*g);
                }
                own.mysql_state = own.mysql_state.union(&info.mysql_gtids);
            }
            self.out.push_back(UpstreamOutput::Append { id, file: file.clone(), offset: self.group_start, bytes, info: Box::new(info) });
            // A group's TABLE_MAPs come before its rows: none is needed after it, so the
            // decoder's table cache stays as small as one group.
            self.decoder.forget_tables();
            if std::mem::take(&mut self.ack_due) {
                // Framed now, sent by the driver once append `id` is committed: never through
                // the client's queue, whose bytes go out as soon as they are polled.
                let bytes = self.semi_sync_ack(&ack_at.0, ack_at.1);
                self.out.push_back(UpstreamOutput::Ack { after: id, bytes });
            }
        } else if self.group.len() >= self.group_bytes_max {
            // Too large to hold: this much goes out now, shown by the store only with the rest.
            let bytes = std::mem::take(&mut self.group);
            let offset = self.group_start;
            self.group_start += bytes.len() as u64;
            self.group_parted += bytes.len() as u64;
            self.out.push_back(UpstreamOutput::AppendPart { file, offset, bytes });
        }
    }

    /// The semi-sync ACK of the primary's `file` up to `end`, framed for the wire.
    fn semi_sync_ack(&mut self, file: &str, end: u64) -> Vec<u8> {
        let mut ack = vec![SEMI_SYNC_MAGIC];
        ack.extend_from_slice(&end.to_le_bytes());
        ack.extend_from_slice(file.as_bytes());
        self.client.frame_semi_sync_ack(&ack)
    }

    /// What binraft holds that a new primary lacks (`theirs`: its `gtid_binlog_pos` or
    /// `gtid_executed`), in the primary's flavour; `None` when it holds everything.
    fn missing_on_primary(&self, theirs: &str) -> Option<String> {
        if self.mariadb {
            let theirs = crate::gtid::MariaGtidPos::parse(theirs).unwrap_or_default();
            let ours = crate::gtid::MariaGtidPos::parse(&self.gtid_pos).unwrap_or_default();
            let missing: Vec<String> = ours.iter().filter(|g| theirs.get(g.domain).is_none_or(|t| t.seq < g.seq)).map(ToString::to_string).collect();
            (!missing.is_empty()).then(|| missing.join(","))
        } else {
            let theirs = GtidSet::parse(&theirs.replace('\n', "")).unwrap_or_default();
            let missing = self.gtid_executed.subtract(&theirs);
            (!missing.is_empty()).then(|| missing.to_string())
        }
    }

    /// An event of the stream in binraft's own layout ([`OwnLayout`]).
    fn on_own_event(&mut self, ev: &crate::binlog::event::Event, mut raw: Vec<u8>) {
        let in_group = !self.group.is_empty() || self.group_parted > 0;
        let Some(own) = self.own.as_mut() else { return };
        if ev.header.is_artificial() {
            // The artificial ROTATE names the primary's file the stream starts in; the rest
            // (its GTID_LIST, heartbeats) is not stored.
            if let EventBody::Rotate(r) = &ev.body {
                own.primary_file = String::from_utf8_lossy(&r.next_file).into_owned();
            }
            return;
        }
        if ev.kind == EventType::HEARTBEAT || ev.kind == EventType::HEARTBEAT_V2 {
            return;
        }
        if !in_group {
            match ev.kind {
                EventType::ROTATE => {
                    // The primary goes on in its next file; so does binraft, in its own.
                    if let EventBody::Rotate(r) = &ev.body {
                        own.primary_file = String::from_utf8_lossy(&r.next_file).into_owned();
                        own.primary_end = 4;
                    }
                    own.rotate_due = true;
                    return;
                }
                EventType::FORMAT_DESCRIPTION => {
                    if std::mem::take(&mut own.rotate_due) {
                        own.pending_fde = Some((ev.clone(), raw));
                    }
                    return;
                }
                // The primary's own file preamble and ending: binraft writes its own.
                EventType::GTID_LIST | EventType::PREVIOUS_GTIDS | EventType::BINLOG_CHECKPOINT | EventType::STOP | EventType::START_ENCRYPTION => return,
                _ => {}
            }
        }
        if ev.header.log_pos != 0 {
            own.primary_end = u64::from(ev.header.log_pos);
        }
        // A transaction binraft holds, sent again for the history check: compared with
        // binraft's next one of its domain, then dropped.
        let resending = match &ev.body {
            _ if own.resent.is_some() => true,
            EventBody::MariaGtid(g) if !in_group && own.held.contains(&crate::gtid::MariaGtid { domain: g.domain, server: ev.header.server_id, seq: g.seq }) => {
                own.resent = Some((g.domain, Vec::new()));
                true
            }
            _ => false,
        };
        if resending {
            if let Some((_, fp)) = own.resent.as_mut() {
                fp.extend(fingerprint_of(ev));
            }
            if self.groups.observe(ev) {
                let (domain, fp) = own.resent.take().unwrap_or_default();
                if let Some(check) = own.check.as_mut() {
                    if check.txns.get_mut(&domain).and_then(VecDeque::pop_front) != Some(fingerprint_hash(&fp)) {
                        let (file, offset) = (own.primary_file.clone(), own.primary_end);
                        return self.fail(UpstreamError::HistoryDiffers { file, offset });
                    }
                    if check.txns.values().all(VecDeque::is_empty) {
                        own.check = None;
                    }
                }
                if std::mem::take(&mut self.ack_due) {
                    // Held already (durable): its ACK waits for nothing new.
                    let (file, end) = (own.primary_file.clone(), own.primary_end);
                    let bytes = self.semi_sync_ack(&file, end);
                    self.out.push_back(UpstreamOutput::Ack { after: self.last_append, bytes });
                }
            }
            return;
        }
        let pending = |domain: u32| own.check.as_ref().is_some_and(|c| c.txns.get(&domain).is_some_and(|q| !q.is_empty()));
        if !in_group && matches!(&ev.body, EventBody::MariaGtid(g) if pending(g.domain)) {
            // A new transaction before binraft's own of its domain all came again: the
            // primary's history is not binraft's.
            let (file, offset) = (own.primary_file.clone(), own.primary_end);
            return self.fail(UpstreamError::HistoryDiffers { file, offset });
        }
        let ack_at = (own.primary_file.clone(), own.primary_end);
        if !in_group {
            if let Some((fde, fde_raw)) = own.pending_fde.take() {
                self.begin_own_file(&fde, fde_raw);
                if self.phase == Phase::Done {
                    return;
                }
            }
        }
        let Some(own) = self.own.as_ref() else { return };
        let alg = own.alg;
        let Some(file) = self.file.clone() else { return self.fail(UpstreamError::EventBeforeRotate) };
        let end = self.file_end + self.group_parted + self.group.len() as u64 + raw.len() as u64;
        let Ok(log_pos) = u32::try_from(end) else { return self.fail(UpstreamError::OffsetTooLarge { file, offset: end }) };
        rebase(&mut raw, log_pos, alg);
        self.receive(file, ev, raw, ack_at);
    }

    /// Begins binraft's next file with the primary's FORMAT_DESCRIPTION `fde` (`raw`): the file
    /// binraft wrote in is closed by a ROTATE of its own naming it, and the new one gets
    /// binraft's GTID_LIST (or PREVIOUS_GTIDS) and BINLOG_CHECKPOINT after the
    /// FORMAT_DESCRIPTION.
    fn begin_own_file(&mut self, fde: &crate::binlog::event::Event, mut raw: Vec<u8>) {
        use crate::binlog::event::Event;
        use crate::binlog::events::{gtid_list::GtidList, previous_gtids::PreviousGtids, rotate::Rotate, simple::BinlogCheckpoint};
        use crate::binlog::header::EventHeader;
        let Some(own) = self.own.as_mut() else { return };
        let alg = match &fde.body {
            EventBody::FormatDescription(f) if f.checksum_alg == Some(ChecksumAlg::Crc32.to_byte()) => ChecksumAlg::Crc32,
            _ => ChecksumAlg::None,
        };
        // binraft's events carry the server id and time of the primary's FORMAT_DESCRIPTION.
        let (server_id, timestamp) = (fde.header.server_id, fde.header.timestamp);
        let last = own.last.take();
        let previous_alg = std::mem::replace(&mut own.alg, alg);
        // binraft's GTIDs so far, for the new file's preamble.
        let list = if self.mariadb {
            let gtids = own.mariadb_state.iter().copied().collect();
            Event::new(EventHeader { timestamp, event_type: EventType::GTID_LIST, server_id, event_size: 0, log_pos: 0, flags: 0 }, EventBody::GtidList(GtidList { flags: 0, gtids, padding: Vec::new() }), alg)
        } else {
            let tagged = own.mysql_state.entries().any(|(_, tag, _)| !tag.is_untagged());
            let format = if tagged { BinaryFormat::Tagged } else { BinaryFormat::Untagged };
            let body = EventBody::PreviousGtids(PreviousGtids { set: own.mysql_state.clone(), format });
            Event::new(EventHeader { timestamp, event_type: EventType::PREVIOUS_GTIDS, server_id, event_size: 0, log_pos: 0, flags: 0 }, body, alg)
        };
        // An event of binraft's at `at`, its end position set.
        let encode = |mut e: Event, at: u64| {
            let len = e.encode().len() as u64;
            e.header.log_pos = u32::try_from(at + len).unwrap_or(0);
            e.encode()
        };
        // The file binraft wrote in, where it ends, its checksum, and the file a ROTATE of it
        // names already.
        let (current, end, current_alg, closed_to) = match (self.file.take(), last) {
            (Some(f), _) => (f, self.file_end, previous_alg, None),
            (None, Some(l)) => (l.name, l.end, l.checksum, l.next_file),
            (None, None) => return self.fail(UpstreamError::EventBeforeRotate),
        };
        let name = if let Some(next) = closed_to {
            next
        } else if end <= 4 {
            // Still empty (a session ended before writing in it): it is the new file.
            current
        } else {
            let next = crate::store::names::next_binlog_name(&current);
            let header = EventHeader { timestamp, event_type: EventType::ROTATE, server_id, event_size: 0, log_pos: 0, flags: 0 };
            let rotate = Event::new(header, EventBody::Rotate(Rotate { position: Some(4), next_file: next.clone().into_bytes() }), current_alg);
            self.push_own(&current, end, encode(rotate, end), current_alg);
            next
        };
        own_state_reset(self, &name);
        let fde_end = 4 + raw.len() as u64;
        rebase(&mut raw, fde_end as u32, alg);
        self.push_own(&name, 4, raw, alg);
        let list = encode(list, fde_end);
        let list_end = fde_end + list.len() as u64;
        self.push_own(&name, fde_end, list, alg);
        if self.mariadb {
            let header = EventHeader { timestamp, event_type: EventType::BINLOG_CHECKPOINT, server_id, event_size: 0, log_pos: 0, flags: 0 };
            let checkpoint = Event::new(header, EventBody::BinlogCheckpoint(BinlogCheckpoint { file: name.clone().into_bytes() }), alg);
            self.push_own(&name, list_end, encode(checkpoint, list_end), alg);
        }
    }

    /// Appends one event binraft wrote itself (`bytes`, at `offset` of `file`) as a group of
    /// its own.
    fn push_own(&mut self, file: &str, offset: u64, bytes: Vec<u8>, alg: ChecksumAlg) {
        let mut d = Decoder::for_stream(alg);
        let ev = match d.decode_next(&bytes, offset) {
            Ok(Some(ev)) => ev,
            Ok(None) => return self.fail(UpstreamError::NotOneEvent { len: bytes.len() }),
            Err(e) => return self.fail(UpstreamError::BadEvent(e)),
        };
        let mut facts = GroupFacts::new();
        facts.observe(&ev);
        self.last_append += 1;
        if self.file.as_deref() == Some(file) {
            self.file_end = offset + bytes.len() as u64;
        }
        self.out.push_back(UpstreamOutput::Append { id: self.last_append, file: file.to_string(), offset, bytes, info: Box::new(facts.finish()) });
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

/// Makes `name` the file being written, empty past its magic: created unless the store has it.
fn own_state_reset(s: &mut UpstreamSession, name: &str) {
    s.group.clear();
    s.group_parted = 0;
    s.facts = GroupFacts::new();
    s.groups = GroupTracker::new();
    s.file = Some(name.to_string());
    s.file_end = 4;
    if s.stored.insert(name.to_string(), 4).is_none() {
        s.out.push_back(UpstreamOutput::NewFile { file: name.to_string() });
    }
}

/// Rewrites an event's end position (`log_pos`) for binraft's file, and its checksum when the
/// file has them.
fn rebase(raw: &mut [u8], log_pos: u32, alg: ChecksumAlg) {
    const LOG_POS: usize = 13;
    if raw.len() < crate::binlog::header::HEADER_LEN_V4 {
        return;
    }
    raw[LOG_POS..LOG_POS + 4].copy_from_slice(&log_pos.to_le_bytes());
    if alg == ChecksumAlg::Crc32 && raw.len() >= crate::binlog::header::HEADER_LEN_V4 + 4 {
        let n = raw.len() - 4;
        let is_fde = raw[4] == EventType::FORMAT_DESCRIPTION.0;
        let crc = crate::binlog::checksum::event_crc(&raw[..n], is_fde);
        raw[n..].copy_from_slice(&crc.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(now_ms: u64) -> UpstreamSession {
        let cfg = UpstreamConfig { user: "repl".into(), password: "pw".into(), server_id: 2, heartbeat_period_ms: 1000, tls: false, use_gtid: true, login_timeout_ms: 5000, own_layout: false };
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
