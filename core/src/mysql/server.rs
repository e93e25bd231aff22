//! One client connection, server side, as a state machine.
//!
//! In: bytes from the client ([`ServerConn::handle_bytes`]) and the replies the layer above
//! chooses for each command (`send_*`). Out: [`Output`]s from [`ServerConn::poll_output`]: bytes
//! to write, a command to answer, the moment a user is authenticated, or a reason to close.
//! The driver polls until `None` after every input. Authentication is done here: the layer above
//! only sees commands from authenticated users.
//!
//! Time comes in as milliseconds of the driver's monotonic clock (`now_ms`). The connection owns
//! its deadlines: the login deadline (from connect to authenticated) and the idle deadline (from
//! the last command to the next); [`ServerConn::poll_timeout`] says when to call
//! [`ServerConn::handle_timeout`]. Before authentication a message may be no larger than a
//! handshake response needs (`handshake_bytes_max`), so that unauthenticated clients cannot
//! make the server hold large buffers.

use super::auth::{self, StoredPassword, CACHING_SHA2_PASSWORD, NATIVE_PASSWORD};
use super::capabilities::{self, CONNECT_WITH_DB, PLUGIN_AUTH, PROTOCOL_41};
use super::command::{Command, CommandError};
use super::errors::ServerError;
use super::handshake::{encode_auth_switch, HandshakeResponse, HandshakeV10};
use super::packet::{write_message, write_message_parts, PacketError, PacketReader};
use super::response::{encode_err, Ok as OkPacket, ResultSet};
use std::collections::VecDeque;
use std::fmt;

/// What the connection asks of its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Bytes to write to the client, in order.
    Send(Vec<u8>),
    /// The client is authenticated as `user`.
    Authenticated { user: String, database: Option<String>, client_capabilities: u32 },
    /// A command to answer with `send_*` (the reply's sequence ids are tracked here).
    Command(Command),
    /// Close the connection after writing what was sent; `reason` is for the log.
    Close { reason: CloseReason },
    /// The client asked for TLS: write what was sent, run the TLS handshake on the socket, then
    /// go on feeding the decrypted bytes.
    StartTls,
}

/// Why a connection closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    ClientQuit,
    /// Framing broke: packets out of order, or a message over `packet_bytes_max`.
    Framing(PacketError),
    /// Before authentication, a message over `handshake_bytes_max`.
    HandshakeTooLarge { size: usize, max: usize },
    MalformedHandshake { field: &'static str },
    Pre41Client,
    TlsNotConfigured,
    TlsRequired,
    AccessDenied { user: String },
    /// Not authenticated within `login_timeout_ms` of connecting.
    LoginTimeout { ms: u64 },
    /// No command for `idle_timeout_ms`.
    IdleTimeout { ms: u64 },
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClientQuit => write!(f, "client quit"),
            CloseReason::Framing(e) => write!(f, "{e}"),
            CloseReason::HandshakeTooLarge { size, max } => write!(f, "handshake packet of {size} bytes exceeds handshake_bytes_max {max}"),
            CloseReason::MalformedHandshake { field } => write!(f, "malformed handshake response (truncated at {field})"),
            CloseReason::Pre41Client => write!(f, "pre-4.1 client"),
            CloseReason::TlsNotConfigured => write!(f, "client asked for TLS, which is not configured"),
            CloseReason::TlsRequired => write!(f, "client without TLS, which is required"),
            CloseReason::AccessDenied { user } => write!(f, "access denied for user '{user}'"),
            CloseReason::LoginTimeout { ms } => write!(f, "login took longer than login_timeout_ms {ms}"),
            CloseReason::IdleTimeout { ms } => write!(f, "idle for longer than idle_timeout_ms {ms}"),
        }
    }
}

/// Server-wide settings a connection needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub server_version: String,
    pub users: Vec<(String, StoredPassword)>,
    /// Largest message accepted from an authenticated client (its max_allowed_packet).
    pub packet_bytes_max: usize,
    /// Largest message accepted before authentication: a handshake response with its
    /// connection attributes needs a few hundred bytes.
    pub handshake_bytes_max: usize,
    /// From connect to authenticated, TLS handshake included.
    pub login_timeout_ms: u64,
    /// From one command of an authenticated session to the next.
    pub idle_timeout_ms: u64,
    /// TLS is configured: the greeting offers it.
    pub tls: bool,
    /// Clients must use TLS.
    pub require_tls: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    AwaitResponse,
    AwaitSwitchReply,
    Commands,
    Closed,
}

#[derive(Debug)]
pub struct ServerConn {
    config: std::sync::Arc<ServerConfig>,
    state: State,
    reader: PacketReader,
    scramble: [u8; 20],
    seq: u8,
    client_caps: u32,
    tls_active: bool,
    pending: Option<HandshakeResponse>,
    out: VecDeque<Output>,
    peer: String,
    connected_ms: u64,
    last_message_ms: u64,
}

/// The ERR packet that refuses a connection in place of the greeting (as MariaDB refuses one
/// over max_connections). The client has announced no capabilities yet, so it carries no SQL
/// state.
pub fn refusal(e: &ServerError) -> Vec<u8> {
    let mut p = vec![0xff];
    p.extend_from_slice(&e.code.to_le_bytes());
    p.extend_from_slice(e.message.as_bytes());
    let mut bytes = Vec::new();
    write_message(&mut bytes, &mut 0, &p);
    bytes
}

impl ServerConn {
    /// A new connection; the greeting is the first output. `scramble` comes from the driver's
    /// random source, so that the core stays deterministic; `now_ms` starts the login deadline.
    pub fn new(config: std::sync::Arc<ServerConfig>, connection_id: u32, scramble: [u8; 20], peer: String, now_ms: u64) -> Self {
        // Scramble bytes must be printable-ish and never zero: clients read them as a C string.
        let scramble = scramble.map(|b| (b % 94) + 33);
        let caps = capabilities::SERVER_DEFAULT | if config.tls { capabilities::SSL } else { 0 };
        let greeting = HandshakeV10 {
            server_version: config.server_version.clone(),
            connection_id,
            scramble,
            capabilities: caps,
            charset: 33,
            status: capabilities::status::AUTOCOMMIT,
            mariadb_capabilities: 0,
            auth_plugin: NATIVE_PASSWORD.into(),
        };
        let mut payload = Vec::new();
        greeting.encode(&mut payload);
        let mut bytes = Vec::new();
        let mut seq = 0;
        write_message(&mut bytes, &mut seq, &payload);
        let mut reader = PacketReader::new(config.handshake_bytes_max);
        reader.expect_seq(Some(1));
        let mut out = VecDeque::new();
        out.push_back(Output::Send(bytes));
        ServerConn {
            config,
            state: State::AwaitResponse,
            reader,
            scramble,
            seq,
            client_caps: 0,
            tls_active: false,
            pending: None,
            out,
            peer,
            connected_ms: now_ms,
            last_message_ms: now_ms,
        }
    }

    pub fn client_capabilities(&self) -> u32 {
        self.client_caps
    }

    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`ServerConn::handle_timeout`] is due: the login deadline until the client is
    /// authenticated, then the idle deadline; `None` once closed or dumping.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::AwaitResponse | State::AwaitSwitchReply => Some(self.connected_ms.saturating_add(self.config.login_timeout_ms)),
            State::Commands => Some(self.last_message_ms.saturating_add(self.config.idle_timeout_ms)),
            State::Closed => None,
        }
    }

    /// Closes the connection if its deadline has passed at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.poll_timeout().is_none_or(|due| now_ms < due) {
            return;
        }
        let reason = match self.state {
            State::Commands => CloseReason::IdleTimeout { ms: self.config.idle_timeout_ms },
            _ => CloseReason::LoginTimeout { ms: self.config.login_timeout_ms },
        };
        self.close(reason);
    }

    pub fn handle_bytes(&mut self, bytes: &[u8], now_ms: u64) {
        if self.state == State::Closed {
            return;
        }
        self.reader.handle_bytes(bytes);
        while self.state != State::Closed {
            let msg = match self.reader.poll_message() {
                None => return,
                Some(Ok(m)) => m,
                Some(Err(PacketError::TooLarge { size, max })) if self.state != State::Commands => {
                    self.send_err(&ServerError::bad_handshake());
                    self.close(CloseReason::HandshakeTooLarge { size, max });
                    return;
                }
                Some(Err(e)) => {
                    let err = match &e {
                        PacketError::TooLarge { .. } => ServerError::new(super::errors::ER_NET_PACKET_TOO_LARGE, b"08S01", "Got a packet bigger than 'max_allowed_packet' bytes"),
                        PacketError::OutOfOrder { .. } => ServerError::malformed(&e.to_string()),
                    };
                    self.send_err(&err);
                    self.close(CloseReason::Framing(e));
                    return;
                }
            };
            self.seq = msg.next_seq;
            // Idle time counts from the last message: the one that authenticated, then commands.
            self.last_message_ms = now_ms;
            match self.state {
                State::AwaitResponse => self.on_response(&msg.payload),
                State::AwaitSwitchReply => self.on_switch_reply(&msg.payload),
                State::Commands => {
                    // Each command starts a new sequence.
                    self.reader.expect_seq(None);
                    self.seq = 1;
                    match Command::decode(&msg.payload) {
                        Ok(Command::Quit) => self.close(CloseReason::ClientQuit),
                        Ok(c) => self.out.push_back(Output::Command(c)),
                        Err(CommandError::Empty) => self.send_err(&ServerError::malformed("empty command")),
                        Err(e) => self.send_err(&ServerError::malformed(&e.to_string())),
                    }
                }
                State::Closed => {}
            }
        }
    }

    fn on_response(&mut self, payload: &[u8]) {
        if HandshakeResponse::is_ssl_request(payload) {
            if !self.config.tls || self.tls_active {
                self.send_err(&ServerError::new(super::errors::ER_NOT_SUPPORTED_YET, b"08004", "TLS is not configured on this binraft node"));
                self.close(CloseReason::TlsNotConfigured);
                return;
            }
            // The full response follows over TLS, continuing the sequence.
            self.tls_active = true;
            self.reader.expect_seq(Some(self.seq));
            self.out.push_back(Output::StartTls);
            return;
        }
        if self.config.require_tls && !self.tls_active {
            self.send_err(&ServerError::new(super::errors::ER_ACCESS_DENIED, b"28000", "Connections using insecure transport are prohibited; use TLS"));
            self.close(CloseReason::TlsRequired);
            return;
        }
        let resp = match HandshakeResponse::decode(payload) {
            Ok(r) => r,
            Err(e) => {
                self.send_err(&ServerError::malformed(&format!("handshake response truncated at {}", e.field)));
                self.close(CloseReason::MalformedHandshake { field: e.field });
                return;
            }
        };
        if resp.capabilities & PROTOCOL_41 == 0 {
            self.send_err(&ServerError::malformed("clients older than protocol 4.1 are not supported"));
            self.close(CloseReason::Pre41Client);
            return;
        }
        self.client_caps = resp.capabilities & (capabilities::SERVER_DEFAULT | CONNECT_WITH_DB);
        let plugin = if resp.capabilities & PLUGIN_AUTH != 0 { resp.auth_plugin.clone().unwrap_or_default() } else { NATIVE_PASSWORD.into() };
        match plugin.as_str() {
            NATIVE_PASSWORD | "" => {
                let ok = self.lookup(&resp.user).is_some_and(|s| auth::native_check(s, &self.scramble, &resp.auth_response));
                self.finish_auth(resp, ok);
            }
            CACHING_SHA2_PASSWORD => {
                let ok = self.lookup(&resp.user).is_some_and(|s| auth::sha2_check(s, &self.scramble, &resp.auth_response));
                if ok {
                    // Fast authentication succeeded.
                    self.send_raw(&[0x01, 0x03]);
                }
                self.finish_auth(resp, ok);
            }
            _ => {
                // An unknown plugin (ed25519, dialog...): ask for mysql_native_password.
                let mut p = Vec::new();
                encode_auth_switch(NATIVE_PASSWORD, &self.scramble, &mut p);
                self.send_raw(&p);
                self.reader.expect_seq(Some(self.seq));
                self.pending = Some(resp);
                self.state = State::AwaitSwitchReply;
            }
        }
    }

    fn on_switch_reply(&mut self, payload: &[u8]) {
        let Some(resp) = self.pending.take() else { return };
        let ok = self.lookup(&resp.user).is_some_and(|s| auth::native_check(s, &self.scramble, payload));
        self.finish_auth(HandshakeResponse { auth_response: payload.to_vec(), ..resp }, ok);
    }

    fn lookup(&self, user: &str) -> Option<&StoredPassword> {
        self.config.users.iter().find(|(u, _)| u == user).map(|(_, p)| p)
    }

    fn finish_auth(&mut self, resp: HandshakeResponse, ok: bool) {
        if !ok {
            let host = self.peer.rsplit_once(':').map_or(self.peer.as_str(), |(h, _)| h).to_string();
            self.send_err(&ServerError::access_denied(&resp.user, &host, !resp.auth_response.is_empty()));
            self.close(CloseReason::AccessDenied { user: resp.user });
            return;
        }
        // Authenticated comes before the OK: the driver records who the user is before the
        // client can send a command that depends on it (KILL).
        self.out.push_back(Output::Authenticated { user: resp.user, database: resp.database, client_capabilities: self.client_caps });
        self.send_ok(0, 0);
        self.state = State::Commands;
        self.reader.expect_seq(None);
        self.reader.set_max_message(self.config.packet_bytes_max);
    }

    fn close(&mut self, reason: CloseReason) {
        self.state = State::Closed;
        self.out.push_back(Output::Close { reason });
    }

    /// Sends one message with the next sequence id.
    pub fn send_raw(&mut self, payload: &[u8]) {
        let mut bytes = Vec::with_capacity(payload.len() + 4);
        write_message(&mut bytes, &mut self.seq, payload);
        self.out.push_back(Output::Send(bytes));
    }

    pub fn send_ok(&mut self, affected_rows: u64, warnings: u16) {
        let mut p = Vec::new();
        OkPacket { affected_rows, status: capabilities::status::AUTOCOMMIT, warnings, ..Default::default() }.encode(0, &mut p);
        self.send_raw(&p);
    }

    pub fn send_err(&mut self, e: &ServerError) {
        let mut p = Vec::new();
        encode_err(e, &mut p);
        self.send_raw(&p);
    }

    pub fn send_result_set(&mut self, rs: &ResultSet) {
        let mut bytes = Vec::new();
        for m in rs.encode(self.client_caps, capabilities::status::AUTOCOMMIT) {
            write_message(&mut bytes, &mut self.seq, &m);
        }
        self.out.push_back(Output::Send(bytes));
    }

    /// A binlog event in a dump stream: a 0x00 byte, then the event.
    pub fn send_event(&mut self, event: &[u8]) {
        let mut bytes = Vec::new();
        self.event_into(&mut bytes, event, None);
        self.out.push_back(Output::Send(bytes));
    }

    /// Frames a binlog event onto `out` (the driver's write buffer) in one copy; with
    /// `semi_sync` the semi-sync header goes first, asking for an ACK if `Some(true)`.
    pub fn event_into(&mut self, out: &mut Vec<u8>, event: &[u8], semi_sync: Option<bool>) {
        match semi_sync {
            None => write_message_parts(out, &mut self.seq, &[0], event),
            Some(ack) => write_message_parts(out, &mut self.seq, &[0, 0xef, u8::from(ack)], event),
        }
    }

    /// The EOF that ends a non-blocking dump.
    pub fn send_eof(&mut self) {
        let mut p = Vec::new();
        super::response::encode_eof(capabilities::status::AUTOCOMMIT, &mut p);
        self.send_raw(&p);
    }

    /// After a dump has started the client sends nothing but semi-sync replies; stray bytes
    /// (python-mysql-replication sends one past its dump packet) are not a framing error.
    /// Commands that came in the same read as the dump's are dropped unanswered, as a dump
    /// thread reads no commands: left queued, they would stand before the dump's EOF or error.
    pub fn ignore_input(&mut self) {
        self.state = State::Closed;
        self.out.retain(|o| !matches!(o, Output::Command(_)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mysql::handshake::decode_auth_switch;
    use std::sync::Arc;

    fn config() -> Arc<ServerConfig> {
        Arc::new(ServerConfig {
            server_version: "5.5.5-10.11.19-MariaDB-binraft".into(),
            users: vec![("repl".into(), StoredPassword::from_plain("pw"))],
            packet_bytes_max: 1 << 20,
            handshake_bytes_max: 16 << 10,
            login_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            tls: false,
            require_tls: false,
        })
    }

    /// Plays a client: returns the server's messages after sending `response`.
    fn connect(plugin: &str, password: &str) -> (ServerConn, Vec<Vec<u8>>) {
        let mut s = ServerConn::new(config(), 7, [5; 20], "127.0.0.1:5555".into(), 0);
        let Some(Output::Send(g)) = s.poll_output() else { panic!() };
        let greeting = HandshakeV10::decode(&g[4..]).unwrap();
        assert_eq!(greeting.auth_plugin, NATIVE_PASSWORD);
        let auth = match plugin {
            CACHING_SHA2_PASSWORD => auth::sha2_scramble(password, &greeting.scramble),
            NATIVE_PASSWORD => auth::native_scramble(password, &greeting.scramble),
            _ => b"whatever".to_vec(),
        };
        let resp = HandshakeResponse {
            capabilities: capabilities::SERVER_DEFAULT,
            max_packet: 1 << 24,
            charset: 33,
            user: "repl".into(),
            auth_response: auth,
            auth_plugin: Some(plugin.into()),
            ..Default::default()
        };
        let mut p = Vec::new();
        resp.encode(&mut p);
        let mut bytes = Vec::new();
        write_message(&mut bytes, &mut 1, &p);
        s.handle_bytes(&bytes, 100);
        let msgs = sent(&mut s).0;
        (s, msgs)
    }

    /// The messages the connection sent, and why it closed if it did.
    fn sent(s: &mut ServerConn) -> (Vec<Vec<u8>>, Option<CloseReason>) {
        let (mut msgs, mut closed) = (Vec::new(), None);
        while let Some(o) = s.poll_output() {
            match o {
                Output::Send(b) => {
                    let mut r = PacketReader::new(1 << 24);
                    r.handle_bytes(&b);
                    while let Some(m) = r.poll_message() {
                        msgs.push(m.unwrap().payload);
                    }
                }
                Output::Close { reason } => closed = Some(reason),
                _ => {}
            }
        }
        (msgs, closed)
    }

    fn query(s: &mut ServerConn, sql: &str, now_ms: u64) {
        let mut bytes = Vec::new();
        Command::Query(sql.into()).encode(&mut bytes);
        let mut framed = Vec::new();
        write_message(&mut framed, &mut 0, &bytes);
        s.handle_bytes(&framed, now_ms);
    }

    #[test]
    fn before_login_a_message_is_no_larger_than_a_handshake_needs() {
        let mut s = ServerConn::new(config(), 7, [5; 20], "127.0.0.1:5555".into(), 0);
        let _ = sent(&mut s);
        // A header announcing 16 MiB is refused on sight, without waiting for the bytes.
        s.handle_bytes(&[0xff, 0xff, 0xff, 1, b'x'], 1);
        let (msgs, closed) = sent(&mut s);
        let e = crate::mysql::response::decode_err(&msgs[0]).unwrap();
        assert_eq!((e.code, e.message.as_str()), (1043, "Bad handshake"));
        assert_eq!(closed, Some(CloseReason::HandshakeTooLarge { size: 0xff_ffff, max: 16 << 10 }));
        assert_eq!(closed.unwrap().to_string(), "handshake packet of 16777215 bytes exceeds handshake_bytes_max 16384");
        // Once authenticated, packet_bytes_max applies.
        let (mut s, _) = connect(NATIVE_PASSWORD, "pw");
        query(&mut s, &format!("SELECT '{}'", "a".repeat(100_000)), 200);
        assert!(matches!(s.poll_output(), Some(Output::Command(Command::Query(_)))));
    }

    #[test]
    fn commands_pipelined_after_a_dump_are_dropped_when_it_starts() {
        let (mut s, _) = connect(NATIVE_PASSWORD, "pw");
        let mut framed = Vec::new();
        let dump = Command::BinlogDump(crate::mysql::command::BinlogDump { position: 4, flags: 0, server_id: 2, file: String::new() });
        for c in [dump, Command::Ping, Command::Query("SELECT 1".into())] {
            let mut bytes = Vec::new();
            c.encode(&mut bytes);
            write_message(&mut framed, &mut 0, &bytes);
        }
        s.handle_bytes(&framed, 200);
        assert!(matches!(s.poll_output(), Some(Output::Command(Command::BinlogDump(_)))));
        s.ignore_input();
        s.send_eof();
        assert!(matches!(s.poll_output(), Some(Output::Send(_))), "the EOF comes next");
        assert!(s.poll_output().is_none());
    }

    #[test]
    fn the_login_deadline_runs_from_connect_and_the_idle_one_from_the_last_command() {
        let mut s = ServerConn::new(config(), 7, [5; 20], "127.0.0.1:5555".into(), 1_000);
        let _ = sent(&mut s);
        assert_eq!(s.poll_timeout(), Some(11_000));
        // Bytes that do not finish the handshake do not move the deadline.
        s.handle_bytes(&[10, 0], 5_000);
        assert_eq!(s.poll_timeout(), Some(11_000));
        s.handle_timeout(10_999);
        assert_eq!(sent(&mut s).1, None);
        s.handle_timeout(11_000);
        assert_eq!(sent(&mut s).1, Some(CloseReason::LoginTimeout { ms: 10_000 }));
        assert_eq!(s.poll_timeout(), None);

        let (mut s, _) = connect(NATIVE_PASSWORD, "pw");
        assert_eq!(s.poll_timeout(), Some(100 + 60_000), "idle from the login");
        query(&mut s, "SELECT 1", 30_000);
        assert_eq!(s.poll_timeout(), Some(90_000));
        s.handle_timeout(89_999);
        assert!(!s.is_closed());
        s.handle_timeout(90_000);
        assert_eq!(sent(&mut s).1, Some(CloseReason::IdleTimeout { ms: 60_000 }));
        // A dump is never idle.
        let (mut s, _) = connect(NATIVE_PASSWORD, "pw");
        s.ignore_input();
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_refusal_replaces_the_greeting_without_sql_state() {
        let bytes = refusal(&ServerError::too_many_connections());
        assert_eq!(&bytes[..4], &[23, 0, 0, 0]);
        let e = crate::mysql::response::decode_err(&bytes[4..]).unwrap();
        assert_eq!((e.code, &e.sql_state, e.message.as_str()), (1040, b"HY000", "Too many connections"));
    }

    #[test]
    fn native_and_caching_sha2_logins() {
        let (s, msgs) = connect(NATIVE_PASSWORD, "pw");
        assert_eq!(msgs[0][0], 0x00, "OK");
        assert!(!s.is_closed());
        let (_, msgs) = connect(CACHING_SHA2_PASSWORD, "pw");
        assert_eq!(msgs[0], [0x01, 0x03], "fast auth success");
        assert_eq!(msgs[1][0], 0x00);
    }

    #[test]
    fn wrong_password_is_1045_and_closes() {
        let (s, msgs) = connect(NATIVE_PASSWORD, "bad");
        let e = crate::mysql::response::decode_err(&msgs[0]).unwrap();
        assert_eq!(e.code, 1045);
        assert_eq!(&e.sql_state, b"28000");
        assert_eq!(e.message, "Access denied for user 'repl'@'127.0.0.1' (using password: YES)");
        assert!(s.is_closed());
    }

    #[test]
    fn unknown_plugin_gets_a_switch_to_native() {
        let (_, msgs) = connect("client_ed25519", "pw");
        let (plugin, data) = decode_auth_switch(&msgs[0]).unwrap();
        assert_eq!(plugin, NATIVE_PASSWORD);
        assert_eq!(data.len(), 20);
    }

    #[test]
    fn garbage_after_login_is_an_error_not_a_crash() {
        let (mut s, _) = connect(NATIVE_PASSWORD, "pw");
        let mut bytes = Vec::new();
        write_message(&mut bytes, &mut 0, &[crate::mysql::command::COM_BINLOG_DUMP, 1, 2]);
        s.handle_bytes(&bytes, 200);
        let mut saw_err = false;
        while let Some(o) = s.poll_output() {
            if let Output::Send(b) = o {
                saw_err |= b[4] == 0xff;
            }
        }
        assert!(saw_err);
        assert!(!s.is_closed(), "a malformed command does not end the session");
    }
}
