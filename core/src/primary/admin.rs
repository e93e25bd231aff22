//! The statements a DBA drives a replica with, for binraft's admin users: CHANGE MASTER TO
//! (and MySQL 8's CHANGE REPLICATION SOURCE TO), START/STOP/RESET SLAVE or REPLICA, SHOW SLAVE
//! or REPLICA STATUS with the servers' own field names, PURGE BINARY LOGS TO / BEFORE.
//!
//! Read by grammar, over [`lex`]'s tokens (comments, any whitespace and letter case, quoted
//! strings with escapes, a trailing `;`): a statement that does not fit is refused with
//! ER_PARSE_ERROR (1064), quoting it as [`redact`](crate::primary::redact) shows it, without its
//! literals, so that neither the error nor a log of it holds a password.
//!
//! In: the statement. Out: an [`AdminCommand`] for the node to carry out, or the error to send.

use crate::mysql::errors::{ServerError, ER_DUP_ARGUMENT, ER_PARSE_ERROR};
use crate::mysql::response::ResultSet;
use crate::primary::lex::{Kind, LexError, Lexer, Token};
use crate::primary::redact::near;
use crate::upstream::settings::UpstreamSettings;
use std::fmt;

/// CHANGE MASTER TO's options; absent ones keep their value. Serde, so that a cluster's log
/// can carry the statement ([`crate::upstream::settings::Command`]).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeMaster {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// MariaDB MASTER_USE_GTID: `slave_pos`, `current_pos` or `no`.
    pub use_gtid: Option<String>,
    /// MySQL MASTER_AUTO_POSITION.
    pub auto_position: Option<bool>,
    pub log_file: Option<String>,
    pub log_pos: Option<u64>,
    pub connect_retry_s: Option<u64>,
    pub heartbeat_period_ms: Option<u64>,
    pub ssl: Option<bool>,
    pub ssl_ca: Option<String>,
}

impl fmt::Debug for ChangeMaster {
    /// Every field but the password, which shows only whether it is set.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeMaster")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("use_gtid", &self.use_gtid)
            .field("auto_position", &self.auto_position)
            .field("log_file", &self.log_file)
            .field("log_pos", &self.log_pos)
            .field("connect_retry_s", &self.connect_retry_s)
            .field("heartbeat_period_ms", &self.heartbeat_period_ms)
            .field("ssl", &self.ssl)
            .field("ssl_ca", &self.ssl_ca)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    ChangeMaster(ChangeMaster),
    StartReplica,
    StopReplica,
    ResetReplica { all: bool },
    /// PURGE BINARY LOGS TO 'file': files before it go.
    PurgeTo(String),
    /// PURGE BINARY LOGS BEFORE 'YYYY-MM-DD hh:mm:ss', as seconds since the epoch (UTC).
    PurgeBefore(u64),
    /// BINRAFT ADD LEARNER id 'host:port': a new member of the cluster that serves and does
    /// not vote (as `POST /v1/members`).
    AddLearner { node_id: u64, addr: String },
    /// BINRAFT PROMOTE id: the learner becomes a voter.
    Promote { node_id: u64 },
    /// BINRAFT REMOVE id: the member leaves the cluster.
    Remove { node_id: u64 },
}

/// Why an admin statement was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// Not the statement's grammar: the token at byte `at` is wrong, or lexing stopped there
    /// (the statement's length: it ended too soon).
    Syntax { at: usize },
    /// A value outside its option's range; `at` is the value's byte offset.
    OutOfRange { option: &'static str, at: usize },
    /// An option binraft does not take (MASTER_DELAY, ...), in capitals as written.
    UnsupportedOption(String),
    /// The same option twice (its MASTER_ and SOURCE_ names are one option).
    DuplicateOption(&'static str),
}

/// The greatest MASTER_HEARTBEAT_PERIOD, as in MariaDB and MySQL.
pub const HEARTBEAT_PERIOD_S_MAX: u64 = 4_294_967;

impl AdminError {
    /// The ERR packet for `sql`, which was refused with this; it quotes `sql` only as
    /// [`redact`](crate::primary::redact::redact) shows it.
    pub fn to_server_error(&self, sql: &str) -> ServerError {
        let line = |at: usize| sql.get(..at).map_or(1, |s| s.matches('\n').count() + 1);
        match self {
            AdminError::Syntax { at } => ServerError::parse_error(&near(sql, *at), line(*at)),
            AdminError::OutOfRange { option, at } => ServerError::new(
                ER_PARSE_ERROR,
                b"42000",
                format!("You have an error in your SQL syntax; the value of {option} is out of range near '{}' at line {}", near(sql, *at), line(*at)),
            ),
            AdminError::UnsupportedOption(o) => {
                ServerError::new(ER_PARSE_ERROR, b"42000", format!("binraft does not support the CHANGE MASTER option {o}"))
            }
            AdminError::DuplicateOption(o) => ServerError::new(ER_DUP_ARGUMENT, b"HY000", format!("Option '{o}' used twice in statement")),
        }
    }
}

/// Recognises an admin statement; `None` when `sql` is not one. Any statement that begins with
/// CHANGE is taken for one, so that a mistyped CHANGE MASTER is refused here, without being
/// quoted whole.
pub fn parse(sql: &str) -> Option<Result<AdminCommand, ServerError>> {
    parse_command(sql).map(|r| r.map_err(|e| e.to_server_error(sql)))
}

/// [`parse`], with why a statement was refused.
pub fn parse_command(sql: &str) -> Option<Result<AdminCommand, AdminError>> {
    // The first two words tell; any other statement is lexed no further.
    let mut head = Lexer::new(sql).map_while(Result::ok);
    let (first, second) = (head.next()?, head.next());
    let second_is = |words: &[&str]| second.as_ref().is_some_and(|t| words.iter().any(|w| t.is_word(w)));
    let admin = first.is_word("change")
        || (["start", "stop", "reset"].iter().any(|w| first.is_word(w)) && second_is(&["slave", "replica"]))
        || (first.is_word("purge") && second_is(&["binary", "master"]))
        || first.is_word("binraft");
    admin.then(|| Parser::new(sql).statement())
}

/// The options of CHANGE MASTER TO, by their MASTER_ names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Host,
    Port,
    User,
    Password,
    UseGtid,
    AutoPosition,
    LogFile,
    LogPos,
    ConnectRetry,
    HeartbeatPeriod,
    Ssl,
    SslCa,
    SslVerifyServerCert,
}

const OPTIONS: [(&str, Opt); 13] = [
    ("MASTER_HOST", Opt::Host),
    ("MASTER_PORT", Opt::Port),
    ("MASTER_USER", Opt::User),
    ("MASTER_PASSWORD", Opt::Password),
    ("MASTER_USE_GTID", Opt::UseGtid),
    ("MASTER_AUTO_POSITION", Opt::AutoPosition),
    ("MASTER_LOG_FILE", Opt::LogFile),
    ("MASTER_LOG_POS", Opt::LogPos),
    ("MASTER_CONNECT_RETRY", Opt::ConnectRetry),
    ("MASTER_HEARTBEAT_PERIOD", Opt::HeartbeatPeriod),
    ("MASTER_SSL", Opt::Ssl),
    ("MASTER_SSL_CA", Opt::SslCa),
    ("MASTER_SSL_VERIFY_SERVER_CERT", Opt::SslVerifyServerCert),
];

/// Reads a statement token by token, one token ahead; it stops at the first error, lexing no
/// further.
struct Parser<'a> {
    sql: &'a str,
    lexer: Lexer<'a>,
    /// The next token, or where lexing stopped; `None` at the end.
    next: Option<Result<Token<'a>, LexError>>,
}

impl<'a> Parser<'a> {
    fn new(sql: &'a str) -> Parser<'a> {
        let mut lexer = Lexer::new(sql);
        let next = lexer.next();
        Parser { sql, lexer, next }
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.next.as_ref().and_then(|n| n.as_ref().ok())
    }

    fn advance(&mut self) {
        self.next = self.lexer.next();
    }

    /// Where the next token is, or where lexing stopped, or the end.
    fn here(&self) -> usize {
        match &self.next {
            Some(Ok(t)) => t.at,
            Some(Err(e)) => e.at(),
            None => self.sql.len(),
        }
    }

    fn error(&self) -> AdminError {
        AdminError::Syntax { at: self.here() }
    }

    /// Takes the next token if `f` accepts it.
    fn take_if(&mut self, f: impl Fn(&Token<'a>) -> bool) -> bool {
        let yes = self.peek().is_some_and(f);
        if yes {
            self.advance();
        }
        yes
    }

    fn word(&mut self, w: &str) -> bool {
        self.take_if(|t| t.is_word(w))
    }

    fn expect_word(&mut self, w: &str) -> Result<(), AdminError> {
        if self.word(w) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn punct(&mut self, c: char) -> bool {
        self.take_if(|t| t.kind == Kind::Punct(c))
    }

    fn string(&mut self) -> Result<String, AdminError> {
        match self.peek().map(|t| &t.kind) {
            Some(Kind::Str(s)) => {
                let s = s.clone();
                self.advance();
                Ok(s)
            }
            _ => Err(self.error()),
        }
    }

    /// A number: its text and where it is.
    fn number(&mut self) -> Result<(&'a str, usize), AdminError> {
        match self.peek() {
            Some(t) if t.kind == Kind::Number => {
                let found = (t.text, t.at);
                self.advance();
                Ok(found)
            }
            _ => Err(self.error()),
        }
    }

    fn integer(&mut self, option: &'static str) -> Result<(u64, usize), AdminError> {
        let (text, at) = self.number()?;
        if text.contains('.') {
            return Err(AdminError::Syntax { at });
        }
        text.parse().map(|n| (n, at)).map_err(|_| AdminError::OutOfRange { option, at })
    }

    /// `0` or `1`.
    fn flag(&mut self, option: &'static str) -> Result<bool, AdminError> {
        match self.integer(option)? {
            (n @ (0 | 1), _) => Ok(n == 1),
            (_, at) => Err(AdminError::OutOfRange { option, at }),
        }
    }

    /// Seconds with up to millisecond precision (`2.5`, `30`), as milliseconds.
    fn seconds_as_ms(&mut self, option: &'static str) -> Result<u64, AdminError> {
        let (text, at) = self.number()?;
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let out_of_range = AdminError::OutOfRange { option, at };
        let secs: u64 = whole.parse().map_err(|_| out_of_range.clone())?;
        if secs > HEARTBEAT_PERIOD_S_MAX {
            return Err(out_of_range);
        }
        // Digits past the third are below a millisecond: dropped.
        let ms = frac.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |ms, d| ms * 10 + u64::from(d - b'0'));
        Ok(secs * 1000 + ms)
    }

    /// Nothing more, but a `;`.
    fn end(&mut self) -> Result<(), AdminError> {
        self.punct(';');
        if self.next.is_none() {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn statement(&mut self) -> Result<AdminCommand, AdminError> {
        let cmd = if self.word("change") {
            if self.word("master") {
                // MariaDB's connection name: binraft has only the default one, ''.
                self.take_if(|t| t.kind == Kind::Str(String::new()));
            } else {
                self.expect_word("replication")?;
                self.expect_word("source")?;
            }
            self.expect_word("to")?;
            AdminCommand::ChangeMaster(self.change_master()?)
        } else if self.word("start") {
            self.replica()?;
            AdminCommand::StartReplica
        } else if self.word("stop") {
            self.replica()?;
            AdminCommand::StopReplica
        } else if self.word("reset") {
            self.replica()?;
            AdminCommand::ResetReplica { all: self.word("all") }
        } else if self.word("purge") {
            if !(self.word("binary") || self.word("master")) {
                return Err(self.error());
            }
            self.expect_word("logs")?;
            if self.word("to") {
                AdminCommand::PurgeTo(self.string()?)
            } else if self.word("before") {
                let at = self.here();
                let when = self.string()?;
                AdminCommand::PurgeBefore(parse_datetime(&when).ok_or(AdminError::Syntax { at })?)
            } else {
                return Err(self.error());
            }
        } else if self.word("binraft") {
            if self.word("add") {
                self.expect_word("learner")?;
                let node_id = self.node_id()?;
                AdminCommand::AddLearner { node_id, addr: self.string()? }
            } else if self.word("promote") {
                AdminCommand::Promote { node_id: self.node_id()? }
            } else if self.word("remove") {
                AdminCommand::Remove { node_id: self.node_id()? }
            } else {
                return Err(self.error());
            }
        } else {
            return Err(self.error());
        };
        self.end()?;
        Ok(cmd)
    }

    /// A cluster member's id: 1 or more.
    fn node_id(&mut self) -> Result<u64, AdminError> {
        match self.integer("node_id")? {
            (0, at) => Err(AdminError::OutOfRange { option: "node_id", at }),
            (n, _) => Ok(n),
        }
    }

    /// SLAVE or REPLICA.
    fn replica(&mut self) -> Result<(), AdminError> {
        if self.word("slave") || self.word("replica") {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// `NAME = value [, NAME = value]...`
    fn change_master(&mut self) -> Result<ChangeMaster, AdminError> {
        let mut c = ChangeMaster::default();
        let mut seen = Vec::new();
        loop {
            let Some(t) = self.peek().filter(|t| t.kind == Kind::Word) else { return Err(self.error()) };
            let written = t.text.to_ascii_uppercase();
            let name = written.strip_prefix("SOURCE_").map_or_else(|| written.clone(), |rest| format!("MASTER_{rest}"));
            let Some(&(name, opt)) = OPTIONS.iter().find(|(n, _)| *n == name) else {
                return Err(if name.starts_with("MASTER_") { AdminError::UnsupportedOption(written) } else { self.error() });
            };
            self.advance();
            if !self.punct('=') {
                return Err(self.error());
            }
            if seen.contains(&opt) {
                return Err(AdminError::DuplicateOption(name));
            }
            seen.push(opt);
            self.option(opt, name, &mut c)?;
            if !self.punct(',') {
                return Ok(c);
            }
        }
    }

    fn option(&mut self, opt: Opt, name: &'static str, c: &mut ChangeMaster) -> Result<(), AdminError> {
        match opt {
            Opt::Host => c.host = Some(self.string()?),
            Opt::User => c.user = Some(self.string()?),
            Opt::Password => c.password = Some(self.string()?),
            Opt::LogFile => c.log_file = Some(self.string()?),
            Opt::SslCa => c.ssl_ca = Some(self.string()?),
            Opt::Port => {
                let (n, at) = self.integer(name)?;
                c.port = Some(u16::try_from(n).map_err(|_| AdminError::OutOfRange { option: name, at })?);
            }
            Opt::LogPos => c.log_pos = Some(self.integer(name)?.0),
            Opt::ConnectRetry => c.connect_retry_s = Some(self.integer(name)?.0),
            Opt::HeartbeatPeriod => c.heartbeat_period_ms = Some(self.seconds_as_ms(name)?),
            Opt::AutoPosition => c.auto_position = Some(self.flag(name)?),
            Opt::Ssl => c.ssl = Some(self.flag(name)?),
            // Verification follows MASTER_SSL_CA: with a CA the certificate is checked.
            Opt::SslVerifyServerCert => {
                self.flag(name)?;
            }
            Opt::UseGtid => {
                let mode = ["slave_pos", "current_pos", "no"].into_iter().find(|m| self.peek().is_some_and(|t| t.is_word(m)));
                let Some(mode) = mode else { return Err(self.error()) };
                self.advance();
                c.use_gtid = Some(mode.to_string());
            }
        }
        Ok(())
    }
}

/// `YYYY-MM-DD[ hh:mm:ss]` as UTC seconds since the epoch.
pub fn parse_datetime(s: &str) -> Option<u64> {
    let (date, time) = s.trim().split_once(' ').unwrap_or((s.trim(), "00:00:00"));
    let d: Vec<i64> = date.split('-').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let t: Vec<i64> = time.split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let ([y, m, day], [hh, mm, ss]) = (d[..].try_into().ok()?, t[..].try_into().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (proleptic Gregorian), after Howard Hinnant's algorithm.
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// What SHOW SLAVE STATUS shows beside the settings: what the upstream session reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub io_state: String,
    pub master_log_file: String,
    pub read_master_log_pos: u64,
    /// "Yes", "No" or "Connecting".
    pub io_running: String,
    pub last_io_errno: u16,
    pub last_io_error: String,
    pub seconds_behind_master: Option<u64>,
    pub master_server_id: u32,
    pub gtid_io_pos: String,
    pub executed_gtid_set: String,
}

impl ReplicaStatus {
    /// SHOW SLAVE STATUS (MariaDB's columns, with MySQL's GTID sets and Auto_Position at the
    /// end: binraft stores what it retrieves, so both sets are the store's): Master_Host,
    /// Connect_Retry, Using_Gtid... from `settings`, the rest from `self`; no row when
    /// replication is not configured (`settings` is `None`).
    pub fn result_set(&self, settings: Option<&UpstreamSettings>) -> ResultSet {
        let cols = [
            "Slave_IO_State", "Master_Host", "Master_User", "Master_Port", "Connect_Retry", "Master_Log_File",
            "Read_Master_Log_Pos", "Relay_Log_File", "Relay_Log_Pos", "Relay_Master_Log_File", "Slave_IO_Running",
            "Slave_SQL_Running", "Replicate_Do_DB", "Replicate_Ignore_DB", "Replicate_Do_Table", "Replicate_Ignore_Table",
            "Replicate_Wild_Do_Table", "Replicate_Wild_Ignore_Table", "Last_Errno", "Last_Error", "Skip_Counter",
            "Exec_Master_Log_Pos", "Relay_Log_Space", "Until_Condition", "Until_Log_File", "Until_Log_Pos",
            "Master_SSL_Allowed", "Master_SSL_CA_File", "Master_SSL_CA_Path", "Master_SSL_Cert", "Master_SSL_Cipher",
            "Master_SSL_Key", "Seconds_Behind_Master", "Master_SSL_Verify_Server_Cert", "Last_IO_Errno", "Last_IO_Error",
            "Last_SQL_Errno", "Last_SQL_Error", "Replicate_Ignore_Server_Ids", "Master_Server_Id", "Using_Gtid",
            "Gtid_IO_Pos", "Retrieved_Gtid_Set", "Executed_Gtid_Set", "Auto_Position",
        ];
        let mut rs = ResultSet::new(&cols);
        let Some(c) = settings else { return rs };
        let s = self;
        let v = |x: &str| Some(x.to_string());
        let sql_running = if s.io_running == "No" { "No" } else { "Yes" };
        let values = vec![
            v(&s.io_state), v(&c.host), v(&c.user), v(&c.port.to_string()), v(&c.connect_retry_s.to_string()),
            v(&s.master_log_file), v(&s.read_master_log_pos.to_string()), v(""), v("0"), v(&s.master_log_file),
            v(&s.io_running), v(sql_running), v(""), v(""), v(""), v(""), v(""), v(""), v("0"), v(""), v("0"),
            v(&s.read_master_log_pos.to_string()), v("0"), v("None"), v(""), v("0"), v("No"), v(""), v(""), v(""), v(""),
            v(""), s.seconds_behind_master.map(|x| x.to_string()), v("No"), v(&s.last_io_errno.to_string()),
            v(&s.last_io_error), v("0"), v(""), v(""), v(&s.master_server_id.to_string()), v(c.using_gtid()),
            v(&s.gtid_io_pos), v(&s.executed_gtid_set), v(&s.executed_gtid_set), v(if c.use_gtid { "1" } else { "0" }),
        ];
        rs.rows.push(values);
        rs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_master_forms() {
        let Some(Ok(AdminCommand::ChangeMaster(c))) = parse(
            "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='p,w''x', MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=2.5",
        ) else {
            panic!()
        };
        assert_eq!(c.host.as_deref(), Some("db1"));
        assert_eq!(c.password.as_deref(), Some("p,w'x"));
        assert_eq!(c.heartbeat_period_ms, Some(2500));
        let Some(Ok(AdminCommand::ChangeMaster(c))) = parse("change replication source to source_host='x', source_auto_position=1") else { panic!() };
        assert_eq!((c.host.as_deref(), c.auto_position), (Some("x"), Some(true)));
        assert!(matches!(parse("CHANGE MASTER TO MASTER_DELAY=5"), Some(Err(e)) if e.message.contains("MASTER_DELAY")));
        assert_eq!(parse("STOP REPLICA"), Some(Ok(AdminCommand::StopReplica)));
        assert_eq!(parse("PURGE BINARY LOGS TO 'b.000003'"), Some(Ok(AdminCommand::PurgeTo("b.000003".into()))));
        assert_eq!(parse("PURGE MASTER LOGS BEFORE '1970-01-02 00:00:01'"), Some(Ok(AdminCommand::PurgeBefore(86_401))));
        assert_eq!(parse("SELECT 1"), None);
    }

    #[test]
    fn slave_status_shows_the_settings_beside_what_the_session_reports() {
        let live = ReplicaStatus { io_running: "Yes".into(), read_master_log_pos: 1234, ..ReplicaStatus::default() };
        assert!(live.result_set(None).rows.is_empty(), "no row when not configured");
        let settings = UpstreamSettings { host: "db1".into(), port: 3307, user: "repl".into(), connect_retry_s: 7, use_gtid: true, password: "s3cr3t-pw".into(), ..UpstreamSettings::default() };
        let rs = live.result_set(Some(&settings));
        let field = |name: &str| {
            let i = rs.columns.iter().position(|c| c == name).unwrap();
            rs.rows[0][i].clone().unwrap_or_default()
        };
        let shown = ["Master_Host", "Master_Port", "Master_User", "Connect_Retry", "Using_Gtid", "Auto_Position", "Slave_IO_Running", "Read_Master_Log_Pos"].map(field);
        assert_eq!(shown, ["db1", "3307", "repl", "7", "Slave_Pos", "1", "Yes", "1234"]);
        assert!(!rs.rows[0].iter().flatten().any(|v| v.contains("s3cr3t-pw")));
    }

    #[test]
    fn datetimes() {
        assert_eq!(parse_datetime("2024-02-29 12:00:00"), Some(1_709_208_000));
        assert_eq!(parse_datetime("2024-13-01"), None);
    }

    const PW: &str = "s3cr3t-pw";

    fn change(sql: &str) -> ChangeMaster {
        match parse_command(sql) {
            Some(Ok(AdminCommand::ChangeMaster(c))) => c,
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn mistyped_change_master_is_refused_without_the_password() {
        use AdminError::*;
        let at = |sql: &str, what: &str| Syntax { at: sql.find(what).unwrap() };
        for (sql, want) in [
            // A missing comma: the password was taken into Master_Host.
            ("CHANGE MASTER TO MASTER_HOST='db1' MASTER_PASSWORD='s3cr3t-pw'", "MASTER_PASSWORD"),
            ("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw' MASTER_HOST='db1'", "MASTER_HOST"),
            ("CHANGE MASTER TO MASTER_HOST='db1', MASTER_PASSWORD=s3cr3t-pw", "s3cr3t-pw"),
            ("CHANGE MASTER 'name' TO MASTER_HOST='db1', MASTER_PASSWORD='s3cr3t-pw'", "'name'"),
            ("CHANGE MASTER TO MASTER_HOST='db1', MASTER_PASSWORD='s3cr3t-pw',", "END"),
            ("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw', MASTER_PORT='3306'", "'3306'"),
            ("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw", "'s3cr3t-pw"),
            ("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw'; SELECT 1", "SELECT"),
            ("CHANGE MASTER TO MASTER_PASSWORD=PASSWORD('s3cr3t-pw')", "PASSWORD("),
            ("/* note */ CHANGE MASTER TO MASTER_HOST='db1' MASTER_PASSWORD='s3cr3t-pw'", "MASTER_PASSWORD"),
            ("CHANGE MASTER TO MASTER_PASSWORD='s3cr3t-pw' /* unterminated", "/*"),
            ("CHANGE MASTER TO MASTER_PASSWORD 's3cr3t-pw'", "'s3cr3t-pw'"),
            ("CHANGE MASTER MASTER_PASSWORD='s3cr3t-pw'", "MASTER_PASSWORD"),
            ("CHANGE REPLICATION TO SOURCE_PASSWORD='s3cr3t-pw'", "TO"),
            ("CHANGE MASTER TO 's3cr3t-pw'", "'s3cr3t-pw'"),
        ] {
            let want = if want == "END" { Syntax { at: sql.len() } } else { at(sql, want) };
            assert_eq!(parse_command(sql), Some(Err(want)), "{sql}");
            let Some(Err(e)) = parse(sql) else { panic!("{sql}") };
            assert_eq!(e.code, ER_PARSE_ERROR, "{sql}");
            assert!(e.message.starts_with("You have an error in your SQL syntax; check the manual"), "{}", e.message);
            assert!(!e.message.contains(PW), "{sql}: {}", e.message);
            assert!(!crate::primary::redact::redact(sql).contains(PW), "{sql}");
        }
        let sql = "CHANGE MASTER TO MASTER_HOST='db1' MASTER_PASSWORD='s3cr3t-pw'";
        let e = AdminError::Syntax { at: sql.find("MASTER_PASSWORD").unwrap() }.to_server_error(sql);
        assert_eq!(e.message, "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'MASTER_PASSWORD = '***'' at line 1");
        let sql = "CHANGE MASTER TO\n MASTER_HOST='db1',\n MASTER_PASSWORD=s3cr3t-pw";
        assert!(parse(sql).unwrap().unwrap_err().message.ends_with("near ''***'' at line 3"));
    }

    #[test]
    fn values_of_the_wrong_range_or_twice_are_refused() {
        use AdminError::*;
        let cases = [
            ("CHANGE MASTER TO MASTER_PORT=65536", OutOfRange { option: "MASTER_PORT", at: 29 }),
            ("CHANGE MASTER TO MASTER_PORT=99999999999999999999999", OutOfRange { option: "MASTER_PORT", at: 29 }),
            ("CHANGE MASTER TO MASTER_PORT=3306.5", Syntax { at: 29 }),
            ("CHANGE MASTER TO MASTER_SSL=2", OutOfRange { option: "MASTER_SSL", at: 28 }),
            ("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=4294968", OutOfRange { option: "MASTER_HEARTBEAT_PERIOD", at: 41 }),
            ("CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=-1", Syntax { at: 41 }),
            ("CHANGE MASTER TO MASTER_USE_GTID=yes", Syntax { at: 33 }),
            ("CHANGE MASTER TO MASTER_HOST='a', SOURCE_HOST='b'", DuplicateOption("MASTER_HOST")),
            ("CHANGE MASTER TO MASTER_DELAY=5", UnsupportedOption("MASTER_DELAY".into())),
            ("change replication source to source_delay=5", UnsupportedOption("SOURCE_DELAY".into())),
        ];
        for (sql, want) in cases {
            assert_eq!(parse_command(sql), Some(Err(want)), "{sql}");
        }
        let e = parse("CHANGE MASTER TO MASTER_HOST='a', MASTER_HOST='b'").unwrap().unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (ER_DUP_ARGUMENT, "Option 'MASTER_HOST' used twice in statement"));
    }

    #[test]
    fn change_master_with_comments_and_any_spacing() {
        let sql = "/* maintenance */ -- moving to db2\n\tchange\r\nMASTER to # the new primary\n master_host = \"db2\" ,\n\tMaster_Port=3307 /*!100000 , MASTER_SSL=1 */, MASTER_PASSWORD='it''s\\'s' ;  ";
        let c = change(sql);
        assert_eq!((c.host.as_deref(), c.port, c.ssl, c.password.as_deref()), (Some("db2"), Some(3307), Some(true), Some("it's's")));
        assert_eq!(change("CHANGE MASTER '' TO MASTER_HOST='h'").host.as_deref(), Some("h"));
        assert!(!format!("{c:?}").contains("it's"), "Debug shows the password");
    }

    #[test]
    fn every_option_the_readme_names() {
        let c = change(
            "CHANGE MASTER TO MASTER_HOST='db1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='secret', \
             MASTER_HEARTBEAT_PERIOD=0.0015, MASTER_USE_GTID=Slave_Pos, MASTER_AUTO_POSITION=1, MASTER_CONNECT_RETRY=60, \
             MASTER_SSL=1, MASTER_SSL_CA='/etc/ca.pem', MASTER_SSL_VERIFY_SERVER_CERT=0, MASTER_LOG_FILE='b.000002', MASTER_LOG_POS=4",
        );
        let want = ChangeMaster {
            host: Some("db1".into()),
            port: Some(3306),
            user: Some("repl".into()),
            password: Some("secret".into()),
            use_gtid: Some("slave_pos".into()),
            auto_position: Some(true),
            log_file: Some("b.000002".into()),
            log_pos: Some(4),
            connect_retry_s: Some(60),
            heartbeat_period_ms: Some(1),
            ssl: Some(true),
            ssl_ca: Some("/etc/ca.pem".into()),
        };
        assert_eq!(c, want);
        let c = change(
            "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db1', SOURCE_PORT=3306, SOURCE_USER='repl', SOURCE_PASSWORD='secret', \
             SOURCE_HEARTBEAT_PERIOD=30, SOURCE_AUTO_POSITION=0, SOURCE_CONNECT_RETRY=5, SOURCE_SSL=0, SOURCE_SSL_CA='ca.pem';",
        );
        assert_eq!(
            (c.host.as_deref(), c.port, c.user.as_deref(), c.password.as_deref(), c.heartbeat_period_ms, c.auto_position, c.connect_retry_s, c.ssl, c.ssl_ca.as_deref()),
            (Some("db1"), Some(3306), Some("repl"), Some("secret"), Some(30_000), Some(false), Some(5), Some(false), Some("ca.pem"))
        );
    }

    #[test]
    fn membership_statements() {
        assert_eq!(parse("BINRAFT ADD LEARNER 4 'db-br4:4306';"), Some(Ok(AdminCommand::AddLearner { node_id: 4, addr: "db-br4:4306".into() })));
        assert_eq!(parse("binraft promote 4"), Some(Ok(AdminCommand::Promote { node_id: 4 })));
        assert_eq!(parse("/* out */ BINRAFT REMOVE 12"), Some(Ok(AdminCommand::Remove { node_id: 12 })));
        assert_eq!(parse_command("BINRAFT REMOVE 0"), Some(Err(AdminError::OutOfRange { option: "node_id", at: 15 })));
        assert_eq!(parse_command("BINRAFT ADD LEARNER 4"), Some(Err(AdminError::Syntax { at: 21 })));
        assert_eq!(parse_command("BINRAFT ADD VOTER 4 'h:1'"), Some(Err(AdminError::Syntax { at: 12 })));
        assert_eq!(parse_command("BINRAFT PROMOTE 4 5"), Some(Err(AdminError::Syntax { at: 18 })));
    }

    #[test]
    fn other_admin_statements_by_grammar() {
        assert_eq!(parse("/* x */ start slave;"), Some(Ok(AdminCommand::StartReplica)));
        assert_eq!(parse("RESET REPLICA ALL"), Some(Ok(AdminCommand::ResetReplica { all: true })));
        assert_eq!(parse("PURGE BINARY LOGS TO \"b.000003\" -- done"), Some(Ok(AdminCommand::PurgeTo("b.000003".into()))));
        assert_eq!(parse_command("START SLAVE UNTIL MASTER_LOG_POS=4"), Some(Err(AdminError::Syntax { at: 12 })));
        assert_eq!(parse_command("PURGE BINARY LOGS BEFORE '2024-13-01'"), Some(Err(AdminError::Syntax { at: 25 })));
        assert_eq!(parse("START TRANSACTION"), None);
        assert_eq!(parse("/* unterminated"), None);
    }
}
