//! Where binraft replicates from, and whether it does: one [`UpstreamSettings`] that CHANGE
//! MASTER TO edits, the config file and `--primary` flags set, `replication.toml` keeps (serde),
//! and a session is started from. Serde, so that it can travel as a Raft log entry.
//!
//! In: the current settings (`None`: never configured, or RESET SLAVE ALL) and one statement,
//! a parsed [`ChangeMaster`] or START / STOP / RESET SLAVE. Out: a [`Transition`] (the settings
//! after it, whether they must be saved first, what becomes of the running session and of SHOW
//! SLAVE STATUS's live fields) or a [`SettingsError`] with the errno MariaDB answers. Also: the
//! session's [`UpstreamConfig`] and the [`Reconnect`] backoff the settings call for.
//!
//! The merge rules of CHANGE MASTER TO: an option not named keeps its value; MASTER_USE_GTID
//! `slave_pos` or `current_pos` (or MASTER_AUTO_POSITION=1, which wins when both are given)
//! resumes by GTID, `no` by file and position; MASTER_SSL_CA implies MASTER_SSL=1; a heartbeat
//! period under 100 ms is taken as 100 ms; MASTER_CONNECT_RETRY=0 keeps the current value, as
//! MariaDB does. MariaDB forgets the primary's file and position when MASTER_HOST or MASTER_PORT
//! changes; binraft resumes from its own store, so it has no such position to forget, refuses
//! MASTER_LOG_FILE and MASTER_LOG_POS, and keeps every other setting across a change of primary.

use super::reconnect::{Reconnect, BACKOFF_MIN_MS};
use super::session::UpstreamConfig;
use crate::mysql::auth::Password;
use crate::mysql::errors::{ServerError, ER_BAD_SLAVE, ER_PARSE_ERROR, ER_SLAVE_MUST_STOP};
use crate::primary::admin::ChangeMaster;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The primary binraft pulls from, how, and whether it does (START/STOP SLAVE).
///
/// The TOML keys are `replication.toml`'s since it was first written; keys added later have
/// serde defaults, so that older files still load.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamSettings {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Password,
    /// MASTER_HEARTBEAT_PERIOD: the primary sends a heartbeat after this long without events.
    pub heartbeat_ms: u64,
    /// MASTER_CONNECT_RETRY: the longest wait between two attempts to connect.
    #[serde(default = "default_connect_retry_s")]
    pub connect_retry_s: u64,
    /// START SLAVE'd (true) or STOP SLAVE'd.
    pub running: bool,
    /// MASTER_SSL.
    #[serde(default)]
    pub ssl: bool,
    /// MASTER_SSL_CA: a PEM file to verify the primary's certificate with; without it any
    /// certificate is accepted.
    #[serde(default)]
    pub ssl_ca: Option<String>,
    /// MASTER_USE_GTID=slave_pos (MariaDB) or MASTER_AUTO_POSITION=1 (MySQL).
    #[serde(default)]
    pub use_gtid: bool,
    /// Set by a change of primary (CHANGE MASTER TO another host or port), never cleared but by
    /// RESET SLAVE ALL: binraft follows the new primary by GTID and writes its own file layout
    /// from then on (its names go on, its positions are its own), since a promoted replica's
    /// files are not the old primary's.
    #[serde(default)]
    pub own_layout: bool,
}

/// MASTER_CONNECT_RETRY when never set: binraft's backoff bound before the setting existed.
pub const CONNECT_RETRY_S_DEFAULT: u64 = 10;
/// The shortest heartbeat period binraft asks for.
pub const HEARTBEAT_MS_MIN: u64 = 100;

fn default_connect_retry_s() -> u64 {
    CONNECT_RETRY_S_DEFAULT
}

impl Default for UpstreamSettings {
    /// What CHANGE MASTER TO starts from when nothing was configured: port 3306, a heartbeat a
    /// second, stopped.
    fn default() -> Self {
        UpstreamSettings {
            host: String::new(),
            port: 3306,
            user: String::new(),
            password: Password::default(),
            heartbeat_ms: 1000,
            connect_retry_s: CONNECT_RETRY_S_DEFAULT,
            running: false,
            ssl: false,
            ssl_ca: None,
            use_gtid: false,
            own_layout: false,
        }
    }
}

impl fmt::Debug for UpstreamSettings {
    /// One line for the log, without the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}:{} (running: {}, tls: {}, gtid: {}, heartbeat_ms: {}, connect_retry_s: {}, own_layout: {})",
            self.user, self.host, self.port, self.running, self.ssl, self.use_gtid, self.heartbeat_ms, self.connect_retry_s, self.own_layout
        )
    }
}

/// Why a replication statement was refused; [`SettingsError::to_server_error`] is MariaDB's
/// answer. Serde, so that a cluster's leader can say it to the member that was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SettingsError {
    /// CHANGE MASTER TO or RESET SLAVE while replication runs: ER_SLAVE_MUST_STOP (1198).
    Running,
    /// START SLAVE without a primary: ER_BAD_SLAVE (1200).
    NotConfigured,
    /// MASTER_LOG_FILE or MASTER_LOG_POS: binraft resumes from its store (1064).
    PositionNotSettable,
    /// A change of primary without GTIDs: a new primary's files and positions are not
    /// binraft's, so only a GTID position can be followed there (1064).
    NewPrimaryNeedsGtid,
}

impl SettingsError {
    pub fn to_server_error(self) -> ServerError {
        match self {
            SettingsError::Running => ServerError::new(ER_SLAVE_MUST_STOP, b"HY000", "This operation cannot be performed as you have a running slave; run STOP SLAVE first"),
            SettingsError::NotConfigured => ServerError::new(ER_BAD_SLAVE, b"HY000", "The server is not configured as slave; fix in config file or with CHANGE MASTER TO"),
            SettingsError::PositionNotSettable => {
                ServerError::new(ER_PARSE_ERROR, b"42000", "binraft resumes from its own store: MASTER_LOG_FILE and MASTER_LOG_POS are not settable")
            }
            SettingsError::NewPrimaryNeedsGtid => ServerError::new(
                ER_PARSE_ERROR,
                b"42000",
                "a new primary is followed by GTID (its files and positions are not binraft's): add MASTER_USE_GTID=slave_pos, or MASTER_AUTO_POSITION=1 for MySQL",
            ),
        }
    }
}

/// What becomes of the session with the primary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Session {
    Unchanged,
    /// (Re)start it with the new settings, ending any running one.
    Start,
    /// End it, if any.
    Stop,
}

/// What becomes of SHOW SLAVE STATUS's live fields (what the session reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Unchanged,
    /// Slave_IO_Running: No, and no Slave_IO_State.
    Stopped,
    /// All cleared (RESET SLAVE).
    Cleared,
}

/// The outcome of one statement. The driver saves `settings` first when `save` is set (for
/// `None`, removes the saved ones) and only then acts: the settings it runs are always the
/// saved ones.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub settings: Option<UpstreamSettings>,
    pub save: bool,
    pub session: Session,
    pub status: Status,
}

impl Transition {
    fn save(settings: Option<UpstreamSettings>, session: Session, status: Status) -> Self {
        Transition { settings, save: true, session, status }
    }
}

fn is_running(current: Option<&UpstreamSettings>) -> bool {
    current.is_some_and(|s| s.running)
}

impl UpstreamSettings {
    /// The session's configuration: these settings, with what the node adds.
    pub fn session_config(&self, server_id: u32, login_timeout_ms: u64) -> UpstreamConfig {
        UpstreamConfig {
            user: self.user.clone(),
            password: self.password.clone(),
            server_id,
            heartbeat_period_ms: self.heartbeat_ms,
            tls: self.ssl,
            use_gtid: self.use_gtid,
            login_timeout_ms,
            own_layout: self.own_layout,
        }
    }

    /// The reconnect backoff: from [`BACKOFF_MIN_MS`] up to MASTER_CONNECT_RETRY.
    pub fn reconnect(&self) -> Reconnect {
        Reconnect::new(BACKOFF_MIN_MS, self.connect_retry_s.saturating_mul(1000))
    }

    /// SHOW SLAVE STATUS's Using_Gtid.
    pub fn using_gtid(&self) -> &'static str {
        if self.use_gtid {
            "Slave_Pos"
        } else {
            "No"
        }
    }

    /// `c`'s options over these settings (see the module's merge rules).
    fn merge(mut self, c: &ChangeMaster) -> Self {
        if let Some(g) = &c.use_gtid {
            self.use_gtid = g != "no";
        }
        // MySQL's spelling of the same choice: auto-position by the store's GTID set.
        if let Some(auto) = c.auto_position {
            self.use_gtid = auto;
        }
        if let Some(ssl) = c.ssl {
            self.ssl = ssl;
        }
        if let Some(ca) = &c.ssl_ca {
            self.ssl_ca = Some(ca.clone());
            self.ssl = true;
        }
        // Another primary than the one binraft pulled from: its own layout from now on.
        let was = (self.host.clone(), self.port);
        if let Some(h) = &c.host {
            self.host = h.clone();
        }
        if let Some(p) = c.port {
            self.port = p;
        }
        if !was.0.is_empty() && (self.host.as_str(), self.port) != (was.0.as_str(), was.1) {
            self.own_layout = true;
        }
        if let Some(u) = &c.user {
            self.user = u.clone();
        }
        if let Some(p) = &c.password {
            self.password = p.as_str().into();
        }
        if let Some(h) = c.heartbeat_period_ms {
            self.heartbeat_ms = h.max(HEARTBEAT_MS_MIN);
        }
        if let Some(r) = c.connect_retry_s.filter(|&r| r > 0) {
            self.connect_retry_s = r;
        }
        self
    }
}

/// A replication statement as it was asked, before it is decided: what a cluster's log carries,
/// so that every member decides it ([`decide`]) against the settings the log has made so far,
/// in the log's order. Decided by the member that was asked, it would be decided against
/// what that member had applied, which may be behind: a START SLAVE asked of a member that
/// had not yet applied the CHANGE MASTER TO before it carried the old primary's settings
/// and undid the change (the simulator found it: primary_failover, seed 55).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    ChangeMaster(ChangeMaster),
    Start,
    Stop,
    Reset { all: bool },
}

/// Decides `cmd` against the `current` settings.
pub fn decide(current: Option<&UpstreamSettings>, cmd: &Command) -> Result<Transition, SettingsError> {
    match cmd {
        Command::ChangeMaster(c) => change_master(current, c),
        Command::Start => start(current),
        Command::Stop => Ok(stop(current)),
        Command::Reset { all } => reset(current, *all),
    }
}

/// CHANGE MASTER TO: refused while running; the options merged over the current settings (or
/// over [`UpstreamSettings::default`]), saved; the session, stopped, stays so.
pub fn change_master(current: Option<&UpstreamSettings>, c: &ChangeMaster) -> Result<Transition, SettingsError> {
    if is_running(current) {
        return Err(SettingsError::Running);
    }
    if c.log_file.is_some() || c.log_pos.is_some() {
        return Err(SettingsError::PositionNotSettable);
    }
    let merged = current.cloned().unwrap_or_default().merge(c);
    if merged.own_layout && !merged.use_gtid {
        return Err(SettingsError::NewPrimaryNeedsGtid);
    }
    Ok(Transition::save(Some(merged), Session::Unchanged, Status::Unchanged))
}

/// START SLAVE: refused without a primary's host; saved as running, and a session (re)starts,
/// even if one ran already.
pub fn start(current: Option<&UpstreamSettings>) -> Result<Transition, SettingsError> {
    let Some(s) = current.filter(|s| !s.host.is_empty()) else { return Err(SettingsError::NotConfigured) };
    Ok(Transition::save(Some(UpstreamSettings { running: true, ..s.clone() }), Session::Start, Status::Unchanged))
}

/// STOP SLAVE: never refused; saved as stopped (when configured), the session ends.
pub fn stop(current: Option<&UpstreamSettings>) -> Transition {
    let settings = current.map(|s| UpstreamSettings { running: false, ..s.clone() });
    Transition { save: settings.is_some(), settings, session: Session::Stop, status: Status::Stopped }
}

/// RESET SLAVE [ALL]: refused while running; clears the status; ALL also forgets the settings.
pub fn reset(current: Option<&UpstreamSettings>, all: bool) -> Result<Transition, SettingsError> {
    if is_running(current) {
        return Err(SettingsError::Running);
    }
    Ok(if all {
        Transition::save(None, Session::Unchanged, Status::Cleared)
    } else {
        Transition { settings: current.cloned(), save: false, session: Session::Unchanged, status: Status::Cleared }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primary::admin::{parse_command, AdminCommand};

    fn cm(sql: &str) -> ChangeMaster {
        match parse_command(sql) {
            Some(Ok(AdminCommand::ChangeMaster(c))) => c,
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn configured() -> UpstreamSettings {
        UpstreamSettings { host: "db1".into(), user: "repl".into(), password: "pw".into(), ..UpstreamSettings::default() }
    }

    fn running() -> UpstreamSettings {
        UpstreamSettings { running: true, ..configured() }
    }

    /// The settings a CHANGE MASTER TO over `current` leaves, which it saves.
    fn after(current: Option<&UpstreamSettings>, sql: &str) -> UpstreamSettings {
        let t = change_master(current, &cm(sql)).unwrap();
        assert_eq!((t.save, t.session, t.status), (true, Session::Unchanged, Status::Unchanged), "{sql}");
        t.settings.unwrap()
    }

    #[test]
    fn change_master_over_nothing_starts_from_the_defaults() {
        let s = after(None, "CHANGE MASTER TO MASTER_HOST='db1'");
        assert_eq!(s, UpstreamSettings { host: "db1".into(), ..UpstreamSettings::default() });
        assert_eq!((s.port, s.heartbeat_ms, s.connect_retry_s, s.running), (3306, 1000, 10, false));
    }

    #[test]
    fn options_not_named_keep_their_value_across_a_change_of_primary() {
        let before = UpstreamSettings { ssl: true, ssl_ca: Some("/ca.pem".into()), use_gtid: true, heartbeat_ms: 500, connect_retry_s: 7, ..configured() };
        let s = after(Some(&before), "CHANGE MASTER TO MASTER_HOST='db2', MASTER_PORT=3307");
        assert_eq!(s, UpstreamSettings { host: "db2".into(), port: 3307, own_layout: true, ..before.clone() });
        let s = after(Some(&before), "CHANGE MASTER TO MASTER_PASSWORD='new'");
        assert_eq!(s, UpstreamSettings { password: "new".into(), ..before });
    }

    #[test]
    fn a_change_of_primary_begins_binrafts_own_layout_and_needs_gtids() {
        let gtid = UpstreamSettings { use_gtid: true, ..configured() };
        assert!(!after(None, "CHANGE MASTER TO MASTER_HOST='db1', MASTER_USE_GTID=slave_pos").own_layout, "a first primary");
        assert!(!after(Some(&gtid), "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306").own_layout, "the same primary");
        assert!(after(Some(&gtid), "CHANGE MASTER TO MASTER_HOST='db2'").own_layout);
        assert!(after(Some(&gtid), "CHANGE MASTER TO MASTER_PORT=3310").own_layout);
        // Once begun, it goes on, even back on the first primary's address.
        let own = after(Some(&gtid), "CHANGE MASTER TO MASTER_HOST='db2'");
        assert!(after(Some(&own), "CHANGE MASTER TO MASTER_HOST='db1'").own_layout);
        // Without GTIDs a new primary cannot be followed: refused, with the reason.
        assert_eq!(change_master(Some(&configured()), &cm("CHANGE MASTER TO MASTER_HOST='db2'")), Err(SettingsError::NewPrimaryNeedsGtid));
        assert_eq!(change_master(Some(&gtid), &cm("CHANGE MASTER TO MASTER_HOST='db2', MASTER_USE_GTID=no")), Err(SettingsError::NewPrimaryNeedsGtid));
        assert!(SettingsError::NewPrimaryNeedsGtid.to_server_error().message.contains("MASTER_USE_GTID=slave_pos"));
        // RESET SLAVE ALL forgets it with the rest.
        assert_eq!(reset(Some(&own), true).unwrap().settings, None);
    }

    #[test]
    fn each_option_and_its_rule() {
        let base = configured();
        let one = |sql: &str| after(Some(&base), sql);
        assert_eq!(one("CHANGE MASTER TO MASTER_USER='u2'").user, "u2");
        assert!(one("CHANGE MASTER TO MASTER_USE_GTID=slave_pos").use_gtid);
        assert!(one("CHANGE MASTER TO MASTER_USE_GTID=current_pos").use_gtid);
        let gtid = UpstreamSettings { use_gtid: true, ..configured() };
        assert!(!after(Some(&gtid), "CHANGE MASTER TO MASTER_USE_GTID=no").use_gtid);
        assert!(one("CHANGE MASTER TO MASTER_AUTO_POSITION=1").use_gtid);
        assert!(!after(Some(&gtid), "CHANGE MASTER TO MASTER_AUTO_POSITION=0").use_gtid);
        // Both spellings: MASTER_AUTO_POSITION decides.
        assert!(!one("CHANGE MASTER TO MASTER_USE_GTID=slave_pos, MASTER_AUTO_POSITION=0").use_gtid);
        assert!(one("CHANGE MASTER TO MASTER_SSL=1").ssl);
        // A CA turns TLS on, whatever MASTER_SSL says.
        let s = one("CHANGE MASTER TO MASTER_SSL=0, MASTER_SSL_CA='/ca.pem'");
        assert_eq!((s.ssl, s.ssl_ca.as_deref()), (true, Some("/ca.pem")));
        assert_eq!(one("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=2.5").heartbeat_ms, 2500);
        assert_eq!(one("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=0.01").heartbeat_ms, HEARTBEAT_MS_MIN);
        assert_eq!(one("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=0").heartbeat_ms, HEARTBEAT_MS_MIN);
        assert_eq!(one("CHANGE MASTER TO MASTER_CONNECT_RETRY=7").connect_retry_s, 7);
        assert_eq!(one("CHANGE MASTER TO SOURCE_CONNECT_RETRY=60").connect_retry_s, 60);
        let seven = UpstreamSettings { connect_retry_s: 7, ..configured() };
        assert_eq!(after(Some(&seven), "CHANGE MASTER TO MASTER_CONNECT_RETRY=0").connect_retry_s, 7, "0 keeps the value");
    }

    #[test]
    fn change_master_is_refused_while_running_and_for_a_position() {
        assert_eq!(change_master(Some(&running()), &cm("CHANGE MASTER TO MASTER_PORT=1")), Err(SettingsError::Running));
        for sql in ["CHANGE MASTER TO MASTER_LOG_FILE='b.000002'", "CHANGE MASTER TO MASTER_LOG_POS=4"] {
            assert_eq!(change_master(Some(&configured()), &cm(sql)), Err(SettingsError::PositionNotSettable), "{sql}");
            assert_eq!(change_master(None, &cm(sql)), Err(SettingsError::PositionNotSettable), "{sql}");
        }
        // While running, the running refusal comes first.
        assert_eq!(change_master(Some(&running()), &cm("CHANGE MASTER TO MASTER_LOG_POS=4")), Err(SettingsError::Running));
    }

    #[test]
    fn start_saves_running_and_starts_a_session() {
        let t = start(Some(&configured())).unwrap();
        assert_eq!(t, Transition { settings: Some(running()), save: true, session: Session::Start, status: Status::Unchanged });
        // Already running: started again.
        assert_eq!(start(Some(&running())), Ok(t));
    }

    /// A failover as a cluster's log carries it: each statement decided against what the ones
    /// before it made, the START SLAVE runs the new primary. Decided against the settings from
    /// before the CHANGE MASTER TO (those of a member that had not applied it), it would run
    /// the old one.
    #[test]
    fn statements_decided_in_order_follow_each_other() {
        let log = [Command::Stop, Command::ChangeMaster(cm("CHANGE MASTER TO MASTER_HOST='db2', MASTER_USE_GTID=slave_pos")), Command::Start];
        let mut s = Some(UpstreamSettings { use_gtid: true, ..running() });
        for cmd in &log {
            s = decide(s.as_ref(), cmd).unwrap().settings;
        }
        let s = s.unwrap();
        assert_eq!((s.host.as_str(), s.running, s.own_layout), ("db2", true, true));
        let stale = decide(Some(&UpstreamSettings { use_gtid: true, ..configured() }), &Command::Start).unwrap().settings.unwrap();
        assert_eq!(stale.host, "db1");
        assert_eq!(decide(None, &Command::Start), Err(SettingsError::NotConfigured));
        let json = serde_json::to_string(&log[1]).unwrap();
        assert_eq!(serde_json::from_str::<Command>(&json).unwrap(), log[1]);
    }

    #[test]
    fn start_is_refused_without_a_primary() {
        assert_eq!(start(None), Err(SettingsError::NotConfigured));
        let no_host = UpstreamSettings { user: "repl".into(), ..UpstreamSettings::default() };
        assert_eq!(start(Some(&no_host)), Err(SettingsError::NotConfigured));
    }

    #[test]
    fn stop_saves_stopped_and_ends_the_session() {
        let want = Transition { settings: Some(configured()), save: true, session: Session::Stop, status: Status::Stopped };
        assert_eq!(stop(Some(&running())), want);
        assert_eq!(stop(Some(&configured())), want);
        // Never configured: nothing to save, but any session still ends.
        assert_eq!(stop(None), Transition { settings: None, save: false, session: Session::Stop, status: Status::Stopped });
    }

    #[test]
    fn reset_clears_the_status_and_all_forgets_the_settings() {
        let keep = Transition { settings: Some(configured()), save: false, session: Session::Unchanged, status: Status::Cleared };
        assert_eq!(reset(Some(&configured()), false), Ok(keep));
        let forget = Transition { settings: None, save: true, session: Session::Unchanged, status: Status::Cleared };
        assert_eq!(reset(Some(&configured()), true), Ok(forget.clone()));
        assert_eq!(reset(None, true), Ok(forget));
        assert_eq!(reset(Some(&running()), false), Err(SettingsError::Running));
        assert_eq!(reset(Some(&running()), true), Err(SettingsError::Running));
    }

    #[test]
    fn errors_are_mariadbs() {
        let e = |s: SettingsError| {
            let e = s.to_server_error();
            (e.code, e.sql_state)
        };
        assert_eq!(e(SettingsError::Running), (1198, *b"HY000"));
        assert_eq!(e(SettingsError::NotConfigured), (1200, *b"HY000"));
        assert_eq!(e(SettingsError::PositionNotSettable), (1064, *b"42000"));
    }

    #[test]
    fn the_session_and_the_backoff_follow_the_settings() {
        let s = UpstreamSettings { ssl: true, use_gtid: true, heartbeat_ms: 500, connect_retry_s: 7, ..configured() };
        let c = s.session_config(42, 9000);
        assert_eq!((c.user.as_str(), c.password.expose(), c.server_id, c.heartbeat_period_ms, c.tls, c.use_gtid, c.login_timeout_ms), ("repl", "pw", 42, 500, true, true, 9000));
        let mut r = s.reconnect();
        let network = crate::upstream::UpstreamError::Network { detail: "refused".into() };
        let waits: Vec<u64> = (0..8).map(|_| r.handle_session_end(0, &network, false)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 6400, 7000], "MASTER_CONNECT_RETRY=7 bounds the backoff");
    }

    #[test]
    fn the_password_shows_neither_in_debug_nor_in_a_status_line() {
        let s = UpstreamSettings { password: "s3cr3t-pw".into(), ..configured() };
        assert_eq!(format!("{s:?}"), "repl@db1:3306 (running: false, tls: false, gtid: false, heartbeat_ms: 1000, connect_retry_s: 10, own_layout: false)");
        assert!(!format!("{:?}", s.session_config(1, 1)).contains("s3cr3t-pw"));
        assert!(!format!("{:?}", cm("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw'")).contains("s3cr3t-pw"));
    }

    #[test]
    fn serde_keeps_the_saved_keys() {
        // A file written before MASTER_CONNECT_RETRY was kept (and before ssl, ssl_ca, use_gtid).
        let old = r#"{"host":"db1","port":3306,"user":"repl","password":"pw","heartbeat_ms":1000,"running":true}"#;
        let s: UpstreamSettings = serde_json::from_str(old).unwrap();
        assert_eq!(s, running());
        let text = serde_json::to_string(&UpstreamSettings { connect_retry_s: 7, ssl_ca: Some("/ca.pem".into()), ..running() }).unwrap();
        assert_eq!(
            text,
            r#"{"host":"db1","port":3306,"user":"repl","password":"pw","heartbeat_ms":1000,"connect_retry_s":7,"running":true,"ssl":false,"ssl_ca":"/ca.pem","use_gtid":false,"own_layout":false}"#
        );
    }
}
