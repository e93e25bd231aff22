//! A DBA at a SQL prompt: admin statements (BINRAFT ADD LEARNER, PROMOTE, REMOVE, PURGE BINARY
//! LOGS) sent to a node by the project's own client side (core's `ClientConn`), from a madsim
//! node of its own, so that partitions cut it off as they would a real client.
//!
//! A statement runs on its own task; the scenario looks at its [`AdminCall`] at later checks.
//! Its outcome is one of three: done, refused by the node (with the server's error), or not
//! known (no answer in time, the connection broke): a change may then still take effect.

use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientOutput, Rows};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a statement may take before its outcome is not known.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// What became of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The node answered OK, or with rows.
    Done(Option<Rows>),
    /// The node refused it: error number and message.
    Refused(u16, String),
    /// No answer: it may or may not have taken effect.
    Unknown(String),
}

impl Outcome {
    /// Whether the statement is done: answered OK, or refused with a message holding one of
    /// `already` (asked again after an answer that did not come, it was done the first time).
    pub fn done_or(&self, already: &[&str]) -> bool {
        match self {
            Outcome::Done(_) => true,
            Outcome::Refused(_, m) => already.iter().any(|a| m.contains(a)),
            Outcome::Unknown(_) => false,
        }
    }
}

/// A statement on its way; [`AdminCall::outcome`] is `None` until it has one.
#[derive(Clone, Default)]
pub struct AdminCall(Arc<Mutex<Option<Outcome>>>);

impl AdminCall {
    pub fn outcome(&self) -> Option<Outcome> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, o: Outcome) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(o);
    }
}

/// Sends `sql` to `addr` as `user`; call on the admin's madsim node.
pub async fn run(addr: SocketAddr, user: String, password: String, sql: String, call: AdminCall) {
    let outcome = match tokio::time::timeout(ANSWER_WITHIN, statement(addr, &user, &password, &sql)).await {
        Ok(o) => o,
        Err(_) => Outcome::Unknown(format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
    };
    call.set(outcome);
}

async fn statement(addr: SocketAddr, user: &str, password: &str, sql: &str) -> Outcome {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        // Not connected: nothing was sent, so nothing was done.
        Err(e) => return Outcome::Refused(2003, format!("connect: {e}")),
    };
    let mut c = ClientConn::new(ClientConfig { user: user.into(), password: password.into(), max_packet: 16 << 20, tls: false });
    let mut sent = false;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        while let Some(o) = c.poll_output() {
            match o {
                ClientOutput::Send(b) => {
                    if let Err(e) = stream.write_all(&b).await {
                        return Outcome::Unknown(format!("write: {e}"));
                    }
                }
                ClientOutput::Ready(_) => {
                    c.query(sql);
                    sent = true;
                }
                ClientOutput::Done(rows) => return Outcome::Done(rows),
                ClientOutput::Refused(e) => return Outcome::Refused(e.code, e.message),
                ClientOutput::Fatal(e) if !sent => return Outcome::Refused(e.errno().unwrap_or(2013), e.to_string()),
                ClientOutput::Fatal(e) => return Outcome::Unknown(e.to_string()),
                ClientOutput::Event(_) | ClientOutput::EndOfStream | ClientOutput::StartTls => return Outcome::Unknown("an answer a statement does not get".into()),
            }
        }
        if let Err(e) = stream.flush().await {
            return Outcome::Unknown(format!("write: {e}"));
        }
        match stream.read(&mut buf).await {
            Ok(0) if !sent => return Outcome::Refused(2013, "the node closed the connection before the statement".into()),
            Ok(0) => return Outcome::Unknown("the node closed the connection".into()),
            Ok(n) => c.handle_bytes(&buf[..n]),
            Err(e) => return Outcome::Unknown(format!("read: {e}")),
        }
    }
}
