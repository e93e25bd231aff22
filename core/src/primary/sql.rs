//! The statements replication clients send on connect, answered as a MySQL or MariaDB primary
//! would. A small recogniser for exactly these forms, not a SQL engine: anything else gets
//! ER_PARSE_ERROR (1064) and the session goes on. It reads the statement as [`canonical`]
//! makes it, so that the forms are recognised as clients write them: over several lines,
//! with comments and version comments, quoted names, any letter case.

use crate::mysql::errors::ServerError;
use crate::mysql::response::ResultSet;
use std::collections::BTreeMap;

/// What the node is, as a primary, at the moment a statement is answered.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    /// Global variables (lower-case names), as SHOW GLOBAL VARIABLES lists them.
    pub variables: BTreeMap<String, String>,
    /// Binlog files and their sizes, oldest first.
    pub binlogs: Vec<(String, u64)>,
    /// Seconds since the epoch, from the driver's clock.
    pub now: u64,
    pub connection_id: u32,
    /// Registered replicas: (server_id, host, port).
    pub replicas: Vec<(u32, String, u16)>,
    /// binlog_gtid_pos(file, pos) as the store computes it; `None` when unknown.
    pub gtid_pos_of: BTreeMap<(String, u64), String>,
    /// binraft's own replication from its primary, for SHOW SLAVE STATUS: its settings (`None`
    /// when not configured) and what its session reports.
    pub replica_settings: Option<crate::upstream::settings::UpstreamSettings>,
    pub replica_status: crate::primary::admin::ReplicaStatus,
    /// The last TABLE_MAP of each (schema, table) in the store.
    pub tables: BTreeMap<(String, String), std::sync::Arc<crate::binlog::events::table_map::TableMap>>,
}

/// Per-connection state: user variables (`@x`) and session system variables (`@@x`).
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub user_vars: BTreeMap<String, Option<String>>,
    pub session_vars: BTreeMap<String, String>,
}

/// What to send back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Rows(ResultSet),
    Ok,
    Err(ServerError),
    /// KILL of a connection: the driver ends it.
    Kill(u64),
}

/// Words a quoted name keeps its quotes as: unquoted they would read as the statement's own.
const KEYWORDS: &[&str] = &["and", "as", "by", "from", "in", "is", "like", "limit", "not", "null", "or", "order", "select", "set", "show", "where"];

/// The statement as the recogniser reads it ([`crate::primary::lex`]'s tokens, as MariaDB
/// reads them): comments gone (a version comment's text kept, as the servers run it), every
/// run of whitespace and comments between two tokens one space, a quoted name that needs no
/// quotes unquoted, trailing `;`s gone. Text that does not lex (an unterminated string, name
/// or comment) stays as it is, and the recogniser refuses it.
fn canonical(sql: &str) -> std::borrow::Cow<'_, str> {
    use crate::primary::lex::{lex, Kind};
    let lexed = lex(sql);
    if lexed.error.is_some() {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut tokens = &lexed.tokens[..];
    while let [rest @ .., last] = tokens {
        if last.kind != Kind::Punct(';') {
            break;
        }
        tokens = rest;
    }
    let bare = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') && !n.bytes().all(|b| b.is_ascii_digit()) && !KEYWORDS.contains(&n.to_ascii_lowercase().as_str());
    let mut out = String::with_capacity(sql.len());
    let mut end = None;
    for t in tokens {
        if end.is_some_and(|e| t.at > e) {
            out.push(' ');
        }
        match &t.kind {
            Kind::QuotedName(n) if bare(n) => out.push_str(n),
            _ => out.push_str(t.text),
        }
        end = Some(t.at + t.text.len());
    }
    std::borrow::Cow::Owned(out)
}

/// Answers one statement.
pub fn answer(sql: &str, info: &ServerInfo, session: &mut Session) -> Reply {
    let canonical = canonical(sql);
    let s = canonical.trim();
    let lower = s.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    match words.as_slice() {
        ["set", ..] => set(&s[3..], info, session),
        ["select", ..] => select(&s[6..], info, session),
        ["show", rest @ ..] => show(rest, s, info, session),
        ["kill", rest @ ..] => match rest.last().and_then(|n| n.parse().ok()) {
            Some(id) => Reply::Kill(id),
            None => Reply::Err(ServerError::syntax(s)),
        },
        [] => Reply::Err(ServerError::new(1065, b"42000", "Query was empty")),
        _ => Reply::Err(ServerError::syntax(s)),
    }
}

/// Splits on commas outside quotes and parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s[start..].trim());
    parts
}

fn unquote(v: &str) -> Option<String> {
    let v = v.trim();
    for q in ['\'', '"'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return Some(v[1..v.len() - 1].replace("\\'", "'").replace("''", "'"));
        }
    }
    None
}

/// `@@global.x`, `@@session.x`, `@@x` to (name, global?).
fn sysvar(expr: &str) -> Option<(String, bool)> {
    let e = expr.trim().strip_prefix("@@")?;
    let e = e.to_ascii_lowercase();
    if let Some(n) = e.strip_prefix("global.") {
        return Some((n.to_string(), true));
    }
    let n = e.strip_prefix("session.").or_else(|| e.strip_prefix("local.")).unwrap_or(&e);
    Some((n.to_string(), false))
}

fn lookup_sysvar(name: &str, global: bool, info: &ServerInfo, session: &Session) -> Option<String> {
    if !global {
        if let Some(v) = session.session_vars.get(name) {
            return Some(v.clone());
        }
    }
    info.variables.get(name).cloned()
}

/// Evaluates an expression of the forms clients use. `Err` carries the error to send.
fn eval(expr: &str, info: &ServerInfo, session: &Session) -> Result<Option<String>, ServerError> {
    let e = expr.trim();
    let lower = e.to_ascii_lowercase();
    if let Some(s) = unquote(e) {
        return Ok(Some(s));
    }
    if lower == "null" {
        return Ok(None);
    }
    if e.parse::<f64>().is_ok() {
        return Ok(Some(e.to_string()));
    }
    if let Some((name, global)) = sysvar(e) {
        return lookup_sysvar(&name, global, info, session).map(Some).ok_or_else(|| ServerError::unknown_variable(&name));
    }
    if let Some(n) = e.strip_prefix('@') {
        return Ok(session.user_vars.get(&n.trim_matches('`').to_ascii_lowercase()).cloned().flatten());
    }
    let func = lower.split('(').next().unwrap_or("").trim().to_string();
    let args = e.find('(').and_then(|i| e.rfind(')').map(|j| &e[i + 1..j])).unwrap_or("");
    match func.as_str() {
        "unix_timestamp" if args.trim().is_empty() => Ok(Some(info.now.to_string())),
        "version" => Ok(info.variables.get("version").cloned()),
        "database" | "schema" => Ok(None),
        "connection_id" => Ok(Some(info.connection_id.to_string())),
        "user" | "current_user" | "session_user" | "system_user" => Ok(Some("binraft@%".into())),
        "uuid" => Ok(Some(pseudo_uuid(info))),
        "binlog_gtid_pos" => {
            let a = split_top(args);
            let file = a.first().and_then(|f| unquote(f)).unwrap_or_default();
            let pos: u64 = a.get(1).and_then(|p| p.trim().parse().ok()).unwrap_or(0);
            Ok(info.gtid_pos_of.get(&(file, pos)).cloned())
        }
        _ => Err(ServerError::syntax(e)),
    }
}

/// A UUID-shaped string from the node's state (clients only store it as their replica UUID).
fn pseudo_uuid(info: &ServerInfo) -> String {
    let x = (u64::from(info.connection_id) << 32) ^ info.now;
    format!("{:08x}-{:04x}-4000-8000-{:012x}", x & 0xffff_ffff, (x >> 32) & 0xffff, x & 0xffff_ffff_ffff)
}

fn set(rest: &str, info: &ServerInfo, session: &mut Session) -> Reply {
    for part in split_top(rest) {
        let lower = part.to_ascii_lowercase();
        if lower.starts_with("names ") || lower.starts_with("character set ") || lower.starts_with("charset ") {
            continue;
        }
        let Some((lhs, rhs)) = part.split_once('=') else { return Reply::Err(ServerError::syntax(part)) };
        let (lhs, rhs) = (lhs.trim(), rhs.trim());
        let value = match eval(rhs, info, session) {
            Ok(v) => v,
            Err(e) => return Reply::Err(e),
        };
        if let Some(n) = lhs.strip_prefix('@').filter(|n| !n.starts_with('@')) {
            session.user_vars.insert(n.trim_matches('`').to_ascii_lowercase(), value);
        } else {
            let name = sysvar(lhs).map(|(n, _)| n).unwrap_or_else(|| lhs.to_ascii_lowercase());
            let name = name.strip_prefix("session ").unwrap_or(&name).trim().to_string();
            session.session_vars.insert(name, value.unwrap_or_default());
        }
    }
    Reply::Ok
}

/// `SELECT a, b FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA='s' AND TABLE_NAME='t' ...`
fn information_schema_columns(rest: &str, info: &ServerInfo) -> Option<Reply> {
    let lower = rest.to_ascii_lowercase();
    let from = lower.find(" from ")?;
    let after = lower[from + 6..].trim_start();
    if !after.starts_with("information_schema.columns") {
        return None;
    }
    let select: Vec<String> = split_top(&rest[..from]).iter().map(|c| c.trim().trim_matches('`').to_string()).collect();
    let value_of = |key: &str| -> Option<String> {
        let i = lower.find(key)?;
        let tail = rest[i + key.len()..].trim_start().strip_prefix('=')?.trim_start();
        let q = tail.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let end = tail[1..].find(q)?;
        Some(tail[1..1 + end].to_string())
    };
    let (Some(schema), Some(table)) = (value_of("table_schema"), value_of("table_name")) else {
        return Some(Reply::Err(ServerError::syntax(rest)));
    };
    let t = info.tables.get(&(schema, table)).map(|t| &**t);
    Some(Reply::Rows(crate::primary::catalog::columns_rows(t, &select)))
}

fn select(rest: &str, info: &ServerInfo, session: &mut Session) -> Reply {
    let rest = rest.trim();
    if let Some(r) = information_schema_columns(rest, info) {
        return r;
    }
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for item in split_top(rest) {
        let (expr, alias) = split_alias(item);
        match eval(expr, info, session) {
            Ok(v) => {
                columns.push(alias.unwrap_or_else(|| expr.trim().to_string()));
                values.push(v);
            }
            Err(e) => return Reply::Err(e),
        }
    }
    let mut rs = ResultSet { columns, rows: Vec::new() };
    rs.rows.push(values);
    Reply::Rows(rs)
}

fn split_alias(item: &str) -> (&str, Option<String>) {
    let lower = item.to_ascii_lowercase();
    if let Some(i) = lower.rfind(" as ") {
        let alias = item[i + 4..].trim().trim_matches('`').trim_matches('\'').trim_matches('"');
        return (&item[..i], Some(alias.to_string()));
    }
    (item, None)
}

/// SQL LIKE with `%` and `_`, case-insensitive, `\` escapes.
pub fn like(pattern: &str, text: &str) -> bool {
    like_steps(pattern, text).0
}

/// One element of a LIKE pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LikeElem {
    /// `%`: any run of characters (runs of `%` are one).
    Any,
    /// `_`: exactly one character.
    One,
    Char(char),
}

fn like_pattern(pattern: &str) -> Vec<LikeElem> {
    let mut out = Vec::new();
    let mut chars = pattern.to_lowercase().chars().collect::<Vec<_>>().into_iter();
    while let Some(c) = chars.next() {
        let e = match c {
            '%' => LikeElem::Any,
            '_' => LikeElem::One,
            // A trailing backslash is itself, as in MySQL.
            '\\' => LikeElem::Char(chars.next().unwrap_or('\\')),
            c => LikeElem::Char(c),
        };
        if !(e == LikeElem::Any && out.last() == Some(&LikeElem::Any)) {
            out.push(e);
        }
    }
    out
}

/// [`like`], and the steps it took. Without recursion, and without trying each way to place
/// every `%`: on a mismatch only the last `%` seen takes one more character, since whatever an
/// earlier `%` could take instead, the last one can take as well. At most
/// (pattern + 1) * (text + 1) steps.
fn like_steps(pattern: &str, text: &str) -> (bool, u64) {
    let p = like_pattern(pattern);
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let mut steps = 0u64;
    let (mut pi, mut ti) = (0usize, 0usize);
    // After the last `%`: where the pattern resumes, and the text position tried for it.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        steps += 1;
        match p.get(pi) {
            Some(LikeElem::Any) => {
                pi += 1;
                star = Some((pi, ti));
            }
            Some(LikeElem::One) => (pi, ti) = (pi + 1, ti + 1),
            Some(LikeElem::Char(c)) if *c == t[ti] => (pi, ti) = (pi + 1, ti + 1),
            _ => match star {
                Some((resume, tried)) => {
                    star = Some((resume, tried + 1));
                    (pi, ti) = (resume, tried + 1);
                }
                None => return (false, steps),
            },
        }
    }
    (p[pi..].iter().all(|e| *e == LikeElem::Any), steps)
}

fn show(words: &[&str], original: &str, info: &ServerInfo, session: &Session) -> Reply {
    let words: Vec<&str> = words.to_vec();
    let (scope_global, rest) = match words.first() {
        Some(&"global") => (true, &words[1..]),
        Some(&"session") | Some(&"local") => (false, &words[1..]),
        _ => (false, &words[..]),
    };
    match rest {
        ["variables", tail @ ..] | ["status", tail @ ..] => {
            let is_status = rest[0] == "status";
            let pattern = match tail {
                [] => None,
                ["like", ..] => {
                    let i = original.to_ascii_lowercase().rfind(" like ").map(|i| i + 6).unwrap_or(original.len());
                    unquote(&original[i..])
                }
                _ => return Reply::Err(ServerError::syntax(original)),
            };
            let mut rs = ResultSet::new(&["Variable_name", "Value"]);
            if !is_status {
                for (name, value) in &info.variables {
                    let v = if scope_global { value.clone() } else { session.session_vars.get(name).cloned().unwrap_or_else(|| value.clone()) };
                    if pattern.as_deref().is_none_or(|p| like(p, name)) {
                        rs.rows.push(vec![Some(name.clone()), Some(v)]);
                    }
                }
            }
            Reply::Rows(rs)
        }
        ["master", "status"] | ["binary", "log", "status"] => {
            let mut rs = ResultSet::new(&["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB", "Executed_Gtid_Set"]);
            if let Some((f, size)) = info.binlogs.last() {
                let executed = info.variables.get("gtid_executed").cloned().unwrap_or_default();
                rs.rows.push(vec![Some(f.clone()), Some(size.to_string()), Some(String::new()), Some(String::new()), Some(executed)]);
            }
            Reply::Rows(rs)
        }
        ["binary", "logs"] | ["master", "logs"] => {
            let mut rs = ResultSet::new(&["Log_name", "File_size"]);
            for (f, size) in &info.binlogs {
                rs.rows.push(vec![Some(f.clone()), Some(size.to_string())]);
            }
            Reply::Rows(rs)
        }
        ["slave", "status"] | ["replica", "status"] | ["all", "slaves", "status"] => {
            Reply::Rows(info.replica_status.result_set(info.replica_settings.as_ref()))
        }
        ["slave", "hosts"] | ["replicas"] => {
            let mut rs = ResultSet::new(&["Server_id", "Host", "Port", "Master_id"]);
            let me = info.variables.get("server_id").cloned().unwrap_or_default();
            for (id, host, port) in &info.replicas {
                rs.rows.push(vec![Some(id.to_string()), Some(host.clone()), Some(port.to_string()), Some(me.clone())]);
            }
            Reply::Rows(rs)
        }
        _ => Reply::Err(ServerError::syntax(original)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ServerInfo {
        let mut variables = BTreeMap::new();
        for (k, v) in [("server_id", "1"), ("binlog_checksum", "CRC32"), ("gtid_domain_id", "0"), ("version", "10.11.19-MariaDB-binraft"), ("gtid_current_pos", "0-1-20")] {
            variables.insert(k.to_string(), v.to_string());
        }
        ServerInfo { variables, binlogs: vec![("binlog.000001".into(), 400), ("binlog.000002".into(), 1200)], now: 1_700_000_000, ..Default::default() }
    }

    fn rows(r: Reply) -> Vec<Vec<Option<String>>> {
        match r {
            Reply::Rows(rs) => rs.rows,
            other => panic!("{other:?}"),
        }
    }

    /// Statements as client libraries write them: over several lines, with tabs, comments
    /// (`#`, `-- `, `/* */`) and version comments, quoted names, odd letter case, trailing `;`.
    #[test]
    fn statements_as_clients_write_them() {
        let i = info();
        let mut s = Session::default();
        let one = |sql: &str, s: &mut Session| rows(answer(sql, &i, s));
        let version = [[Some("10.11.19-MariaDB-binraft".to_string())]];
        for sql in [
            "SELECT VERSION()",
            "select version();",
            "SELECT\n\tVERSION()\n;;",
            "/* mysql-connector */ SELECT VERSION()",
            "# a comment\nSELECT -- and another\n VERSION()",
            "/*!40101 SELECT VERSION() */",
            "/*M!100100 select version() */;",
        ] {
            assert_eq!(one(sql, &mut s), version, "{sql:?}");
        }
        assert_eq!(one("SHOW\tVARIABLES\n  LIKE 'SERVER_ID'", &mut s), [[Some("server_id".into()), Some("1".into())]]);
        assert_eq!(answer("SET\n@master_binlog_checksum = /* c */ @@global.binlog_checksum;", &i, &mut s), Reply::Ok);
        assert_eq!(one("select\n  @master_binlog_checksum", &mut s), [[Some("CRC32".into())]]);
        // A multi-line catalog query, a quoted schema and table.
        let cols = "SELECT\n  COLUMN_NAME\nFROM\n  `information_schema`.`COLUMNS`\nWHERE\n  TABLE_SCHEMA = 'shop'\n  AND TABLE_NAME = 'orders'\nORDER BY ORDINAL_POSITION";
        assert!(matches!(answer(cols, &i, &mut s), Reply::Rows(_)), "{cols}");
        // The quotes and the text of a string are kept; an unterminated one is refused.
        assert_eq!(canonical("SELECT 'a  -- b',\n`from`, `x`"), "SELECT 'a  -- b', `from`, x");
        assert!(matches!(answer("SELECT 'unterminated", &i, &mut s), Reply::Err(e) if e.code == 1064));
        assert!(matches!(answer("/* */ ;", &i, &mut s), Reply::Err(e) if e.code == 1065));
    }

    #[test]
    fn mariadb_replica_connect_sequence() {
        // Verbatim from a MariaDB 10.11 replica (shared/REPLICATION_NOTES.md).
        let i = info();
        let mut s = Session::default();
        assert_eq!(rows(answer("SELECT UNIX_TIMESTAMP()", &i, &mut s)), [[Some("1700000000".into())]]);
        assert_eq!(rows(answer("SHOW VARIABLES LIKE 'SERVER_ID'", &i, &mut s)), [[Some("server_id".into()), Some("1".into())]]);
        assert_eq!(answer("SET @master_heartbeat_period= 30000001024", &i, &mut s), Reply::Ok);
        assert_eq!(answer("SET @master_binlog_checksum= @@global.binlog_checksum", &i, &mut s), Reply::Ok);
        assert_eq!(rows(answer("SELECT @master_binlog_checksum", &i, &mut s)), [[Some("CRC32".into())]]);
        assert_eq!(answer("SET @mariadb_slave_capability=4", &i, &mut s), Reply::Ok);
        assert_eq!(rows(answer("SELECT @@GLOBAL.gtid_domain_id", &i, &mut s)), [[Some("0".into())]]);
        assert_eq!(answer("SET @slave_connect_state='0-1-42'", &i, &mut s), Reply::Ok);
        assert_eq!(s.user_vars.get("slave_connect_state"), Some(&Some("0-1-42".into())));
        assert_eq!(answer("SET @slave_gtid_strict_mode=1", &i, &mut s), Reply::Ok);
        assert_eq!(answer("SET NAMES latin1", &i, &mut s), Reply::Ok);
    }

    #[test]
    fn unknown_things_are_proper_errors() {
        let i = info();
        let mut s = Session::default();
        let Reply::Err(e) = answer("SELECT @@global.no_such_var", &i, &mut s) else { panic!() };
        assert_eq!((e.code, e.message.as_str()), (1193, "Unknown system variable 'no_such_var'"));
        let Reply::Err(e) = answer("DROP TABLE x", &i, &mut s) else { panic!() };
        assert_eq!(e.code, 1064);
    }

    #[test]
    fn show_statements() {
        let i = info();
        let mut s = Session::default();
        assert_eq!(rows(answer("SHOW BINARY LOGS", &i, &mut s)).len(), 2);
        assert_eq!(rows(answer("show master status", &i, &mut s))[0][0].as_deref(), Some("binlog.000002"));
        assert_eq!(rows(answer("SHOW GLOBAL VARIABLES LIKE 'gtid\\_%'", &i, &mut s)).len(), 2);
        assert!(like("binlog_%", "BINLOG_CHECKSUM"));
        assert!(!like("binlog_", "binlog_checksum"));
    }

    /// The matcher this replaced: it recursed once per pattern character and tried every place
    /// for every `%`. Right, on short inputs.
    fn like_backtracking(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| like_backtracking(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && like_backtracking(&p[1..], &t[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && like_backtracking(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && like_backtracking(&p[1..], &t[1..]),
        }
    }

    #[test]
    fn like_semantics() {
        for (p, t, want) in [
            ("gtid\\_%", "GTID_domain_id", true),
            ("gtid\\_%", "gtidXdomain_id", false),
            ("a\\%", "a%", true),
            ("a\\%", "ab", false),
            ("a\\", "a\\", true),
            ("%", "", true),
            ("", "", true),
            ("", "a", false),
            ("_", "", false),
            ("%%_%", "", false),
            ("%a%b", "xaxxb", true),
            ("%a%b", "xaxxba", false),
            ("s_rver%", "Server_ID", true),
        ] {
            assert_eq!(like(p, t), want, "{p:?} LIKE {t:?}");
        }
    }

    #[test]
    fn like_agrees_with_backtracking_on_short_inputs() {
        // Every pattern of up to 5 of these elements against every text of up to 5 of a, b.
        let elems = ['a', 'b', '%', '_', '\\'];
        let mut patterns = vec![String::new()];
        for len in 1..=5 {
            for mut n in 0..elems.len().pow(len) {
                let mut p = String::new();
                for _ in 0..len {
                    p.push(elems[n % elems.len()]);
                    n /= elems.len();
                }
                patterns.push(p);
            }
        }
        let texts: Vec<String> = (0..=5u32).flat_map(|len| (0..1u32 << len).map(move |bits| (0..len).map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' }).collect())).collect();
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            for t in &texts {
                let tc: Vec<char> = t.chars().collect();
                assert_eq!(like(p, t), like_backtracking(&pc, &tc), "{p:?} LIKE {t:?}");
            }
        }
    }

    #[test]
    fn like_steps_are_bounded_by_pattern_times_text() {
        // Eleven wildcards that almost match: a backtracking matcher tries every way to place them.
        let pattern = "%a%a%a%a%a%a%a%a%a%a%a%b";
        let text = "a".repeat(25);
        let (matched, steps) = like_steps(pattern, &text);
        assert!(!matched);
        let bound = (pattern.len() as u64 + 1) * (text.len() as u64 + 1);
        assert!(steps <= bound, "{steps} steps for a {}-char pattern over {} chars", pattern.len(), text.len());
    }

    #[test]
    fn like_with_100k_percent_signs_answers() {
        let i = info();
        let mut s = Session::default();
        let q = format!("SHOW VARIABLES LIKE '{}'", "%".repeat(100_000));
        assert_eq!(rows(answer(&q, &i, &mut s)).len(), i.variables.len());
        assert!(like(&"%".repeat(100_000), "server_id"));
    }
}
