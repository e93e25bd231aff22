//! The statements a DBA drives a replica with, for binraft's admin users: CHANGE MASTER TO
//! (and MySQL 8's CHANGE REPLICATION SOURCE TO), START/STOP/RESET SLAVE or REPLICA, SHOW SLAVE
//! or REPLICA STATUS with the servers' own field names, PURGE BINARY LOGS TO / BEFORE.
//!
//! In: the statement. Out: an [`AdminCommand`] for the node to carry out, or the error to send.

use crate::mysql::errors::ServerError;
use crate::mysql::response::ResultSet;

/// CHANGE MASTER TO's options; absent ones keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
}

fn unquote(v: &str) -> Option<String> {
    let v = v.trim();
    for q in ['\'', '"'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return Some(v[1..v.len() - 1].replace("''", "'"));
        }
    }
    None
}

fn split_options(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quote, mut start) = (None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, ',') => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

/// Recognises an admin statement; `None` when `sql` is not one.
pub fn parse(sql: &str) -> Option<Result<AdminCommand, ServerError>> {
    let s = sql.trim().trim_end_matches(';').trim();
    let lower = s.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    Some(Ok(match words.as_slice() {
        ["start", "slave" | "replica", ..] => AdminCommand::StartReplica,
        ["stop", "slave" | "replica", ..] => AdminCommand::StopReplica,
        ["reset", "slave" | "replica", rest @ ..] => AdminCommand::ResetReplica { all: rest.first() == Some(&"all") },
        ["change", "master", "to", ..] | ["change", "replication", "source", "to", ..] => {
            let at = lower.find(" to ").map(|i| i + 4).unwrap_or(s.len());
            return Some(change_master(&s[at..]).map(AdminCommand::ChangeMaster));
        }
        ["purge", "binary" | "master", "logs", "to", ..] => {
            let at = lower.find(" to ").map(|i| i + 4).unwrap_or(s.len());
            match unquote(&s[at..]) {
                Some(f) => AdminCommand::PurgeTo(f),
                None => return Some(Err(ServerError::syntax(s))),
            }
        }
        ["purge", "binary" | "master", "logs", "before", ..] => {
            let at = lower.find(" before ").map(|i| i + 8).unwrap_or(s.len());
            match unquote(&s[at..]).and_then(|d| parse_datetime(&d)) {
                Some(t) => AdminCommand::PurgeBefore(t),
                None => return Some(Err(ServerError::syntax(s))),
            }
        }
        _ => return None,
    }))
}

fn change_master(opts: &str) -> Result<ChangeMaster, ServerError> {
    let mut c = ChangeMaster::default();
    for part in split_options(opts) {
        let Some((k, v)) = part.split_once('=') else { return Err(ServerError::syntax(part)) };
        let key = k.trim().to_ascii_uppercase().replace("SOURCE_", "MASTER_");
        let v = v.trim();
        let text = || unquote(v).ok_or_else(|| ServerError::syntax(part));
        let num = || v.parse::<u64>().map_err(|_| ServerError::syntax(part));
        match key.as_str() {
            "MASTER_HOST" => c.host = Some(text()?),
            "MASTER_PORT" => c.port = Some(u16::try_from(num()?).map_err(|_| ServerError::syntax(part))?),
            "MASTER_USER" => c.user = Some(text()?),
            "MASTER_PASSWORD" => c.password = Some(text()?),
            "MASTER_USE_GTID" => {
                let g = v.to_ascii_lowercase();
                if !["slave_pos", "current_pos", "no"].contains(&g.as_str()) {
                    return Err(ServerError::syntax(part));
                }
                c.use_gtid = Some(g);
            }
            "MASTER_AUTO_POSITION" => c.auto_position = Some(num()? != 0),
            "MASTER_LOG_FILE" => c.log_file = Some(text()?),
            "MASTER_LOG_POS" => c.log_pos = Some(num()?),
            "MASTER_CONNECT_RETRY" => c.connect_retry_s = Some(num()?),
            "MASTER_HEARTBEAT_PERIOD" => {
                let secs: f64 = v.parse().map_err(|_| ServerError::syntax(part))?;
                c.heartbeat_period_ms = Some((secs * 1000.0) as u64);
            }
            "MASTER_SSL" => c.ssl = Some(num()? != 0),
            "MASTER_SSL_CA" => c.ssl_ca = Some(text()?),
            "MASTER_SSL_VERIFY_SERVER_CERT" => {
                // Verification follows MASTER_SSL_CA: with a CA the certificate is checked.
                num()?;
            }
            _ => {
                return Err(ServerError::new(
                    1064,
                    b"42000",
                    format!("binraft does not support the CHANGE MASTER option {}", k.trim()),
                ))
            }
        }
    }
    Ok(c)
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

/// What SHOW SLAVE STATUS shows, as the node knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub io_state: String,
    pub host: String,
    pub user: String,
    pub port: u16,
    pub connect_retry_s: u64,
    pub master_log_file: String,
    pub read_master_log_pos: u64,
    /// "Yes", "No" or "Connecting".
    pub io_running: String,
    pub last_io_errno: u16,
    pub last_io_error: String,
    pub seconds_behind_master: Option<u64>,
    pub master_server_id: u32,
    pub using_gtid: String,
    pub gtid_io_pos: String,
    pub executed_gtid_set: String,
}

impl ReplicaStatus {
    /// SHOW SLAVE STATUS (MariaDB's columns, with MySQL's GTID sets and Auto_Position at the
    /// end: binraft stores what it retrieves, so both sets are the store's); no row when
    /// replication was never configured.
    pub fn result_set(status: Option<&ReplicaStatus>) -> ResultSet {
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
        let Some(s) = status else { return rs };
        let v = |x: &str| Some(x.to_string());
        let sql_running = if s.io_running == "No" { "No" } else { "Yes" };
        let values = vec![
            v(&s.io_state), v(&s.host), v(&s.user), v(&s.port.to_string()), v(&s.connect_retry_s.to_string()),
            v(&s.master_log_file), v(&s.read_master_log_pos.to_string()), v(""), v("0"), v(&s.master_log_file),
            v(&s.io_running), v(sql_running), v(""), v(""), v(""), v(""), v(""), v(""), v("0"), v(""), v("0"),
            v(&s.read_master_log_pos.to_string()), v("0"), v("None"), v(""), v("0"), v("No"), v(""), v(""), v(""), v(""),
            v(""), s.seconds_behind_master.map(|x| x.to_string()), v("No"), v(&s.last_io_errno.to_string()),
            v(&s.last_io_error), v("0"), v(""), v(""), v(&s.master_server_id.to_string()), v(&s.using_gtid),
            v(&s.gtid_io_pos), v(&s.executed_gtid_set), v(&s.executed_gtid_set), v(if s.using_gtid == "No" { "0" } else { "1" }),
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
    fn datetimes() {
        assert_eq!(parse_datetime("2024-02-29 12:00:00"), Some(1_709_208_000));
        assert_eq!(parse_datetime("2024-13-01"), None);
    }
}
