//! binraft's client and server protocol machines talking to each other through memory.

use binraft_core::mysql::auth::StoredPassword;
use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientError, ClientOutput};
use binraft_core::mysql::server::{Output, ServerConfig, ServerConn};
use binraft_core::primary::{answer, Reply, ServerInfo, Session};
use std::sync::Arc;

/// Moves bytes both ways until neither side has anything to say; returns the client's outputs.
fn pump(c: &mut ClientConn, s: &mut ServerConn, session: &mut Session, info: &ServerInfo) -> Vec<ClientOutput> {
    let mut seen = Vec::new();
    loop {
        let mut moved = false;
        while let Some(o) = s.poll_output() {
            match o {
                Output::Send(b) => {
                    c.handle_bytes(&b);
                    moved = true;
                }
                Output::Command(binraft_core::mysql::command::Command::Query(q)) => {
                    match answer(&q, info, session) {
                        Reply::Rows(rs) => s.send_result_set(&rs),
                        Reply::Err(e) => s.send_err(&e),
                        _ => s.send_ok(0, 0),
                    }
                    moved = true;
                }
                _ => {}
            }
        }
        while let Some(o) = c.poll_output() {
            match o {
                ClientOutput::Send(b) => {
                    s.handle_bytes(&b, 0);
                    moved = true;
                }
                other => seen.push(other),
            }
        }
        if !moved {
            return seen;
        }
    }
}

fn server(version: &str) -> ServerConn {
    let cfg = Arc::new(ServerConfig {
        server_version: version.into(),
        users: vec![("repl".into(), StoredPassword::from_plain("pw"))],
        packet_bytes_max: 1 << 20,
        handshake_bytes_max: 16 << 10,
        login_timeout_ms: 10_000,
        idle_timeout_ms: 28_800_000,
        tls: false,
        require_tls: false,
    });
    ServerConn::new(cfg, 9, [7; 20], "127.0.0.1:1".into(), 0)
}

#[test]
fn login_query_and_errors() {
    let mut info = ServerInfo::default();
    info.variables.insert("server_id".into(), "100".into());
    let mut session = Session::default();
    let mut s = server("5.5.5-10.11.19-MariaDB-binraft-log");
    let mut c = ClientConn::new(ClientConfig { user: "repl".into(), password: "pw".into(), max_packet: 1 << 20, tls: false });
    let out = pump(&mut c, &mut s, &mut session, &info);
    assert!(matches!(&out[..], [ClientOutput::Ready(g)] if g.server_version.contains("MariaDB")), "{out:?}");
    c.query("SELECT @@server_id, 'x' AS y");
    let out = pump(&mut c, &mut s, &mut session, &info);
    let [ClientOutput::Done(Some(rows))] = &out[..] else { panic!("{out:?}") };
    assert_eq!(rows.columns, ["@@server_id", "y"]);
    assert_eq!(rows.scalar().as_deref(), Some("100"));
    c.query("SELECT @@no_such");
    let out = pump(&mut c, &mut s, &mut session, &info);
    assert!(matches!(&out[..], [ClientOutput::Refused(e)] if e.code == 1193), "{out:?}");
    c.query("SET @a = 1");
    assert_eq!(pump(&mut c, &mut s, &mut session, &info), [ClientOutput::Done(None)]);
}

#[test]
fn wrong_password_is_fatal_with_the_servers_words() {
    let info = ServerInfo::default();
    let mut s = server("8.0.45-binraft");
    let mut c = ClientConn::new(ClientConfig { user: "repl".into(), password: "nope".into(), max_packet: 1 << 20, tls: false });
    let out = pump(&mut c, &mut s, &mut Session::default(), &info);
    let [ClientOutput::Fatal(ClientError::AccessDenied(e))] = &out[..] else { panic!("{out:?}") };
    assert_eq!((e.code, e.message.as_str()), (1045, "Access denied for user 'repl'@'127.0.0.1' (using password: YES)"));
}
