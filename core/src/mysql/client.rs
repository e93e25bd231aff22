//! One connection to a primary, client side, as a state machine: the handshake and
//! authentication, queries with their result sets, and the binlog stream after a dump command.
//!
//! In: bytes from the server, and requests (`query`, `send_command`). Out: [`ClientOutput`]s:
//! bytes to write, the server's greeting once authenticated, query results, binlog events, and
//! fatal errors. The driver polls until `None` after every input.

use super::auth::{self, Password, CACHING_SHA2_PASSWORD, NATIVE_PASSWORD};
use super::capabilities::{self, DEPRECATE_EOF, PLUGIN_AUTH};
use super::command::Command;
use super::errors::ServerError;
use super::handshake::{decode_auth_switch, HandshakeResponse, HandshakeV10};
use super::packet::{write_message, PacketError, PacketReader};
use super::response::{decode_err, decode_text_row};
use crate::codec::Reader;
use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub user: String,
    pub password: Password,
    /// Largest message accepted (a binlog event can be up to 1 GiB).
    pub max_packet: usize,
    /// Ask for TLS (fail if the server does not offer it).
    pub tls: bool,
}

/// The rows of a text result set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<Vec<u8>>>>,
}

impl Rows {
    /// The first row's first value, as text.
    pub fn scalar(&self) -> Option<String> {
        self.rows.first()?.first()?.as_ref().map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientOutput {
    Send(Vec<u8>),
    /// Authenticated; the server's greeting.
    Ready(HandshakeV10),
    /// The answer to the last query or command: OK (`None`) or rows.
    Done(Option<Rows>),
    /// The server refused the last request (the connection stays usable).
    Refused(ServerError),
    /// One binlog event of the dump stream (without the 0x00 prefix).
    Event(Vec<u8>),
    /// The dump stream ended (non-blocking dump).
    EndOfStream,
    /// The connection cannot go on: authentication failed, the stream broke, the server
    /// closed it with an error.
    Fatal(ClientError),
    /// Run the TLS handshake on the socket now, then call [`ClientConn::tls_established`].
    StartTls,
}

/// Why a connection cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The framing broke (a packet too large, out of sequence).
    Packet(PacketError),
    /// The server sent an error instead of its greeting (too many connections, host blocked).
    ConnectionRefused(ServerError),
    /// A message that does not parse: `what` it should have been.
    Malformed { what: &'static str },
    /// TLS was asked for and the server does not offer it.
    TlsNotOffered,
    /// The server refused the login.
    AccessDenied(ServerError),
    /// The server asks for an authentication plugin binraft does not speak.
    UnsupportedAuthPlugin(String),
    /// caching_sha2_password wants the password in clear, which binraft sends only over TLS.
    FullAuthNeedsTls,
    /// A packet the state does not allow: `when` it came.
    Unexpected { when: &'static str },
    /// The server ended the binlog stream with an error.
    StreamError(ServerError),
}

impl ClientError {
    /// The server's error number, when the server gave one.
    pub fn errno(&self) -> Option<u16> {
        match self {
            ClientError::ConnectionRefused(e) | ClientError::AccessDenied(e) | ClientError::StreamError(e) => Some(e.code),
            _ => None,
        }
    }
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Packet(e) => write!(f, "protocol error: {e}"),
            ClientError::ConnectionRefused(e) => write!(f, "the server refused the connection: {} (error {})", e.message, e.code),
            ClientError::Malformed { what } => write!(f, "malformed {what}"),
            ClientError::TlsNotOffered => f.write_str("TLS was asked for, but the primary does not offer it"),
            ClientError::AccessDenied(e) => write!(f, "authentication failed: {} (error {})", e.message, e.code),
            ClientError::UnsupportedAuthPlugin(p) => write!(f, "the server asks for auth plugin {p}, which binraft does not speak"),
            ClientError::FullAuthNeedsTls => f.write_str(
                "caching_sha2_password asks for full authentication, which binraft does only over TLS: use --primary-ssl, or log in once with another client to fill the server's cache",
            ),
            ClientError::Unexpected { when } => write!(f, "unexpected packet {when}"),
            ClientError::StreamError(e) => write!(f, "the primary ended the binlog stream: {} (error {})", e.message, e.code),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AwaitGreeting,
    AwaitAuth { plugin: String },
    Idle,
    AwaitResponse,
    AwaitColumns { count: usize, names: Vec<String> },
    AwaitRows { columns: Vec<String>, rows: Vec<Vec<Option<Vec<u8>>>> },
    Dumping,
    Failed,
}

#[derive(Debug)]
pub struct ClientConn {
    cfg: ClientConfig,
    state: State,
    reader: PacketReader,
    seq: u8,
    caps: u32,
    greeting: Option<HandshakeV10>,
    /// The handshake response, held until TLS is up.
    after_tls: Option<Vec<u8>>,
    tls_up: bool,
    out: VecDeque<ClientOutput>,
}

impl ClientConn {
    pub fn new(cfg: ClientConfig) -> Self {
        let reader = PacketReader::new(cfg.max_packet);
        ClientConn { cfg, state: State::AwaitGreeting, reader, seq: 0, caps: 0, greeting: None, after_tls: None, tls_up: false, out: VecDeque::new() }
    }

    #[must_use]
    pub fn poll_output(&mut self) -> Option<ClientOutput> {
        self.out.pop_front()
    }

    fn send(&mut self, payload: &[u8]) {
        let mut b = Vec::with_capacity(payload.len() + 4);
        write_message(&mut b, &mut self.seq, payload);
        // The reply continues the sequence.
        self.reader.expect_seq(Some(self.seq));
        self.out.push_back(ClientOutput::Send(b));
    }

    fn fail(&mut self, why: ClientError) {
        self.state = State::Failed;
        self.out.push_back(ClientOutput::Fatal(why));
    }

    /// TLS is up: the held handshake response goes out over it.
    pub fn tls_established(&mut self) {
        self.tls_up = true;
        if let Some(b) = self.after_tls.take() {
            self.send(&b);
        }
    }

    /// A semi-sync ACK while streaming, framed but not queued: the caller sends it once what it
    /// acknowledges is durable. It is its own packet sequence (id 0) and gets no reply. The
    /// primary restarts its sequence ids after each ACK it reads, and this one may be sent at any
    /// time from now on, so the stream's ids stop being checked now rather than when it leaves.
    #[must_use]
    pub fn frame_semi_sync_ack(&mut self, payload: &[u8]) -> Vec<u8> {
        self.reader.ignore_seq();
        let mut b = Vec::with_capacity(payload.len() + 4);
        write_message(&mut b, &mut 0, payload);
        b
    }

    /// Sends a query; its answer comes as `Done` or `Refused`.
    pub fn query(&mut self, sql: &str) {
        self.send_command(&Command::Query(sql.to_string()));
    }

    /// Sends a command. After COM_BINLOG_DUMP(_GTID) the connection streams events.
    pub fn send_command(&mut self, c: &Command) {
        debug_assert_eq!(self.state, State::Idle);
        let mut p = Vec::new();
        c.encode(&mut p);
        self.seq = 0;
        self.send(&p);
        self.state = if matches!(c, Command::BinlogDump(_) | Command::BinlogDumpGtid(_)) { State::Dumping } else { State::AwaitResponse };
    }

    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        self.reader.handle_bytes(bytes);
        while self.state != State::Failed {
            let msg = match self.reader.poll_message() {
                None => return,
                Some(Ok(m)) => m,
                Some(Err(e)) => return self.fail(ClientError::Packet(e)),
            };
            self.seq = msg.next_seq;
            self.on_message(msg.payload);
        }
    }

    fn on_message(&mut self, p: Vec<u8>) {
        let first = p.first().copied();
        match std::mem::replace(&mut self.state, State::Failed) {
            State::AwaitGreeting => {
                if first == Some(0xff) {
                    return self.fail(decode_err(&p).map_or(ClientError::Malformed { what: "error packet" }, ClientError::ConnectionRefused));
                }
                let g = match HandshakeV10::decode(&p) {
                    Ok(g) => g,
                    Err(_) => return self.fail(ClientError::Malformed { what: "greeting" }),
                };
                let plugin = if g.auth_plugin == CACHING_SHA2_PASSWORD { CACHING_SHA2_PASSWORD } else { NATIVE_PASSWORD };
                // No database is named, so CONNECT_WITH_DB is not claimed; NO_SCHEMA would forbid
                // db.table names (MariaDB then answers 'No database selected'); ODBC is legacy.
                let not_ours = capabilities::CONNECT_ATTRS | capabilities::CONNECT_WITH_DB | capabilities::NO_SCHEMA | capabilities::ODBC;
                self.caps = capabilities::SERVER_DEFAULT & g.capabilities & !not_ours;
                let auth_response = scramble(plugin, self.cfg.password.expose(), &g.scramble);
                let resp = HandshakeResponse {
                    capabilities: self.caps | capabilities::PROTOCOL_41 | capabilities::SECURE_CONNECTION | PLUGIN_AUTH,
                    max_packet: self.cfg.max_packet.min(u32::MAX as usize) as u32,
                    charset: 33,
                    mariadb_capabilities: 0,
                    user: self.cfg.user.clone(),
                    auth_response,
                    database: None,
                    auth_plugin: Some(plugin.into()),
                    attributes: Vec::new(),
                };
                let mut b = Vec::new();
                if self.cfg.tls {
                    if g.capabilities & capabilities::SSL == 0 {
                        return self.fail(ClientError::TlsNotOffered);
                    }
                    let resp = HandshakeResponse { capabilities: resp.capabilities | capabilities::SSL, ..resp };
                    resp.encode(&mut b);
                    // SSLRequest: the response's fixed 32 bytes, then TLS, then the response.
                    self.send(&b[..super::handshake::SSL_REQUEST_LEN]);
                    self.after_tls = Some(b);
                    self.greeting = Some(g);
                    self.state = State::AwaitAuth { plugin: plugin.into() };
                    self.out.push_back(ClientOutput::StartTls);
                    return;
                }
                resp.encode(&mut b);
                self.greeting = Some(g);
                self.send(&b);
                self.state = State::AwaitAuth { plugin: plugin.into() };
            }
            State::AwaitAuth { plugin } => match first {
                Some(0x00) => {
                    self.state = State::Idle;
                    if let Some(g) = self.greeting.clone() {
                        self.out.push_back(ClientOutput::Ready(g));
                    }
                }
                Some(0xff) => self.fail(decode_err(&p).map_or(ClientError::Malformed { what: "error packet" }, ClientError::AccessDenied)),
                Some(0xfe) => {
                    let Ok((new_plugin, data)) = decode_auth_switch(&p) else { return self.fail(ClientError::Malformed { what: "auth switch" }) };
                    if new_plugin != NATIVE_PASSWORD && new_plugin != CACHING_SHA2_PASSWORD {
                        return self.fail(ClientError::UnsupportedAuthPlugin(new_plugin));
                    }
                    let r = scramble(&new_plugin, self.cfg.password.expose(), &data);
                    self.send(&r);
                    self.state = State::AwaitAuth { plugin: new_plugin };
                }
                Some(0x01) if plugin == CACHING_SHA2_PASSWORD => match p.get(1) {
                    // Fast authentication succeeded; the OK follows.
                    Some(0x03) => self.state = State::AwaitAuth { plugin },
                    // Full authentication: the password in clear, which only TLS may carry.
                    Some(0x04) if self.tls_up => {
                        let mut clear = self.cfg.password.expose().as_bytes().to_vec();
                        clear.push(0);
                        self.send(&clear);
                        self.state = State::AwaitAuth { plugin };
                    }
                    _ => self.fail(ClientError::FullAuthNeedsTls),
                },
                _ => self.fail(ClientError::Unexpected { when: "during authentication" }),
            },
            State::AwaitResponse => match first {
                Some(0x00) => {
                    self.state = State::Idle;
                    self.out.push_back(ClientOutput::Done(None));
                }
                Some(0xff) => {
                    self.state = State::Idle;
                    match decode_err(&p) {
                        Ok(e) => self.out.push_back(ClientOutput::Refused(e)),
                        Err(_) => self.fail(ClientError::Malformed { what: "error packet" }),
                    }
                }
                _ => match Reader::new(&p).lenenc_len("column_count") {
                    Ok(n) if n > 0 && n < 4096 => self.state = State::AwaitColumns { count: n as usize, names: Vec::new() },
                    _ => self.fail(ClientError::Malformed { what: "result set header" }),
                },
            },
            State::AwaitColumns { count, mut names } => {
                if names.len() == count {
                    // The EOF after the definitions (no DEPRECATE_EOF), or already a row.
                    if self.caps & DEPRECATE_EOF == 0 && first == Some(0xfe) && p.len() < 9 {
                        self.state = State::AwaitRows { columns: names, rows: Vec::new() };
                        return;
                    }
                    self.state = State::AwaitRows { columns: names, rows: Vec::new() };
                    return self.on_message(p);
                }
                let mut r = Reader::new(&p);
                let mut name = String::new();
                for i in 0..5 {
                    match r.lenenc_bytes("column") {
                        Ok(v) if i == 4 => name = String::from_utf8_lossy(v).into_owned(),
                        Ok(_) => {}
                        Err(_) => return self.fail(ClientError::Malformed { what: "column definition" }),
                    }
                }
                names.push(name);
                self.state = State::AwaitColumns { count, names };
                if self.caps & DEPRECATE_EOF != 0 {
                    if let State::AwaitColumns { count, names } = &self.state {
                        if names.len() == *count {
                            let names = names.clone();
                            self.state = State::AwaitRows { columns: names, rows: Vec::new() };
                        }
                    }
                }
            }
            State::AwaitRows { columns, mut rows } => {
                if first == Some(0xfe) && p.len() < 9 {
                    self.state = State::Idle;
                    self.out.push_back(ClientOutput::Done(Some(Rows { columns, rows })));
                } else if first == Some(0xff) {
                    self.state = State::Idle;
                    if let Ok(e) = decode_err(&p) {
                        self.out.push_back(ClientOutput::Refused(e));
                    }
                } else {
                    match decode_text_row(&p, columns.len()) {
                        Ok(r) => rows.push(r),
                        Err(_) => return self.fail(ClientError::Malformed { what: "row" }),
                    }
                    self.state = State::AwaitRows { columns, rows };
                }
            }
            State::Dumping => {
                self.state = State::Dumping;
                match first {
                    Some(0x00) => self.out.push_back(ClientOutput::Event(p[1..].to_vec())),
                    Some(0xfe) if p.len() < 9 => {
                        self.state = State::Idle;
                        self.out.push_back(ClientOutput::EndOfStream);
                    }
                    Some(0xff) => self.fail(decode_err(&p).map_or(ClientError::Malformed { what: "error packet" }, ClientError::StreamError)),
                    _ => self.fail(ClientError::Unexpected { when: "in the binlog stream" }),
                }
            }
            State::Idle => self.fail(ClientError::Unexpected { when: "while idle" }),
            State::Failed => {}
        }
    }
}

fn scramble(plugin: &str, password: &str, data: &[u8]) -> Vec<u8> {
    if plugin == CACHING_SHA2_PASSWORD {
        auth::sha2_scramble(password, data)
    } else {
        auth::native_scramble(password, data)
    }
}
