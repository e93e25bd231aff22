//! Error codes and SQL states binraft sends, as MySQL and MariaDB number them.

/// An ERR packet's contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: u16,
    pub sql_state: [u8; 5],
    pub message: String,
}

impl ServerError {
    pub fn new(code: u16, sql_state: &[u8; 5], message: impl Into<String>) -> Self {
        ServerError { code, sql_state: *sql_state, message: message.into() }
    }

    /// 1045: `Access denied for user 'u'@'host' (using password: YES)`.
    pub fn access_denied(user: &str, host: &str, with_password: bool) -> Self {
        let yes = if with_password { "YES" } else { "NO" };
        Self::new(ER_ACCESS_DENIED, b"28000", format!("Access denied for user '{user}'@'{host}' (using password: {yes})"))
    }

    /// 1064: a statement binraft cannot parse or does not serve.
    pub fn syntax(near: &str) -> Self {
        let near: String = near.chars().take(80).collect();
        Self::new(
            ER_PARSE_ERROR,
            b"42000",
            format!("You have an error in your SQL syntax; binraft does not serve this statement near '{near}'"),
        )
    }

    /// 1064 in MariaDB's words. `near` is what may be quoted of the statement from where it went
    /// wrong (see [`crate::primary::redact::near`]); `line` counts from 1.
    pub fn parse_error(near: &str, line: usize) -> Self {
        Self::new(
            ER_PARSE_ERROR,
            b"42000",
            format!("You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near '{near}' at line {line}"),
        )
    }

    /// 1193: `Unknown system variable 'x'`.
    pub fn unknown_variable(name: &str) -> Self {
        Self::new(ER_UNKNOWN_SYSTEM_VARIABLE, b"HY000", format!("Unknown system variable '{name}'"))
    }

    /// 1236: the replica asked for binlog the server cannot give.
    pub fn binlog(message: impl Into<String>) -> Self {
        Self::new(ER_MASTER_FATAL_ERROR_READING_BINLOG, b"HY000", message)
    }

    /// 1047: a command byte binraft does not know.
    pub fn unknown_command(cmd: u8) -> Self {
        Self::new(ER_UNKNOWN_COM_ERROR, b"08S01", format!("Unknown command 0x{cmd:02x}"))
    }

    /// 1040: the connection would be one more than the server takes.
    pub fn too_many_connections() -> Self {
        Self::new(ER_CON_COUNT_ERROR, b"08004", "Too many connections")
    }

    /// 1043: the handshake cannot go on (here: a packet larger than a handshake needs).
    pub fn bad_handshake() -> Self {
        Self::new(ER_HANDSHAKE_ERROR, b"08S01", "Bad handshake")
    }

    /// 1095: KILL of another user's session by a user who is not an admin.
    pub fn not_owner_of_thread(id: u64) -> Self {
        Self::new(ER_KILL_DENIED_ERROR, b"HY000", format!("You are not owner of thread {id}"))
    }

    /// 1047 as well, for a malformed command packet.
    pub fn malformed(what: &str) -> Self {
        Self::new(ER_UNKNOWN_COM_ERROR, b"08S01", format!("Malformed packet: {what}"))
    }
}

pub const ER_CON_COUNT_ERROR: u16 = 1040;
pub const ER_HANDSHAKE_ERROR: u16 = 1043;
pub const ER_ACCESS_DENIED: u16 = 1045;
pub const ER_UNKNOWN_COM_ERROR: u16 = 1047;
pub const ER_PARSE_ERROR: u16 = 1064;
pub const ER_NET_PACKET_TOO_LARGE: u16 = 1153;
pub const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
pub const ER_DUP_ARGUMENT: u16 = 1225;
pub const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
pub const ER_SLAVE_MUST_STOP: u16 = 1198;
pub const ER_BAD_SLAVE: u16 = 1200;
pub const ER_NOT_SUPPORTED_YET: u16 = 1235;
pub const ER_NO_SUCH_THREAD: u16 = 1094;
pub const ER_KILL_DENIED_ERROR: u16 = 1095;
