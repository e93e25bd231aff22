//! The HTTP admin API (`--http-listen`), JSON, on every node; every path needs an admin's
//! credentials as HTTP basic auth (the same users as `--admin`).
//!
//! - `GET /v1/status`: the node's role in the cluster, the Raft positions, the GTID position of
//!   what it stores, and its pull from the primary;
//! - `GET /v1/health`: 200 while the node serves (its Raft, if any, has not stopped);
//! - `GET /metrics`: Prometheus (OpenMetrics text): Raft positions and role, the pull, the
//!   store, connections;
//! - `POST /v1/members` `{"node_id": 4, "addr": "HOST:PORT"}`: adds a learner (it catches up,
//!   serves replicas, does not vote); `POST /v1/members/{id}/promote`: a learner becomes a
//!   voter; `DELETE /v1/members/{id}`: a member leaves. Sent to any node: a follower forwards
//!   it to the leader. 200 with what was done, 409 with why not.
//! - `GET /v1/ready`: 200 once the node serves everything committed (it knows a leader, or is
//!   a single node, and has applied what it knows committed); 503 with why not;
//! - `POST /v1/upstream` `{"host", "port", "user", "password", "use_gtid", "heartbeat_ms",
//!   "connect_retry_s", "ssl", "ssl_ca"}` (each optional, as CHANGE MASTER TO's options), and
//!   `POST /v1/upstream/start`, `POST /v1/upstream/stop`: the primary binraft pulls from;
//! - `POST /v1/purge` `{"to": "FILE"}` or `{"before": "YYYY-MM-DD hh:mm:ss"}`: PURGE BINARY
//!   LOGS. The upstream and purge calls are the admin SQL statements' (in a cluster through the
//!   log, on every member): 200, 400 for a bad request, 409 with the server's error.

use crate::cluster::members as members_api;
use crate::server::Node;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use std::sync::Arc;

/// Serves the API on `listener` until it fails.
pub async fn serve(listener: tokio::net::TcpListener, node: Arc<Node>) {
    let app = Router::new()
        .route("/v1/status", get(status))
        .route("/v1/health", get(health))
        .route("/metrics", get(metrics))
        .route("/v1/members", axum::routing::post(add_member))
        .route("/v1/members/{id}/promote", axum::routing::post(promote_member))
        .route("/v1/members/{id}", axum::routing::delete(remove_member))
        .route("/v1/ready", get(ready))
        .route("/v1/upstream", axum::routing::post(change_upstream))
        .route("/v1/upstream/start", axum::routing::post(start_upstream))
        .route("/v1/upstream/stop", axum::routing::post(stop_upstream))
        .route("/v1/purge", axum::routing::post(purge))
        .with_state(node);
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("http api: {e}");
    }
}

/// None when the request carries an admin's user and password; else the refusal.
fn refuse_unless_admin(node: &Node, headers: &HeaderMap) -> Option<Response> {
    let creds = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let ok = creds.as_deref().and_then(|c| c.split_once(':')).is_some_and(|(u, p)| node.is_admin_password(u, p));
    if ok {
        return None;
    }
    let user = creds.as_deref().and_then(|c| c.split_once(':')).map(|(u, _)| u.to_string());
    tracing::warn!(user = ?user, "http api: refused a request without an admin's credentials");
    Some((StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"binraft\"")], Json(json!({"error": "admin credentials required (HTTP basic auth)"}))).into_response())
}

async fn status(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    Json(status_json(&node)).into_response()
}

async fn health(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    match &node.cluster {
        Some(c) if c.stopped().is_some() => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"healthy": false, "error": c.stopped()}))).into_response(),
        _ => Json(json!({"healthy": true})).into_response(),
    }
}

async fn ready(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    let not_ready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"ready": false, "why": why}))).into_response();
    if let Some(c) = &node.cluster {
        if let Some(e) = c.stopped() {
            return not_ready(format!("raft stopped: {e}"));
        }
        let m = c.metrics();
        if m.current_leader.is_none() {
            return not_ready("no leader known".into());
        }
        let (committed, applied) = (m.local_committed.map(|l| l.index), m.last_applied.map(|l| l.index));
        if applied < committed {
            return not_ready(format!("applying: {} of {} entries", applied.unwrap_or(0), committed.unwrap_or(0)));
        }
        if c.catch_up.lock().is_ok_and(|p| p.is_some()) {
            return not_ready("receiving a snapshot".into());
        }
    }
    Json(json!({"ready": true})).into_response()
}

/// CHANGE MASTER TO's options, as JSON: each optional.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Upstream {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<String>,
    use_gtid: Option<bool>,
    heartbeat_ms: Option<u64>,
    connect_retry_s: Option<u64>,
    ssl: Option<bool>,
    ssl_ca: Option<String>,
}

/// A request's JSON body, or what was `expected` and why it is not that.
fn json_body<T>(body: Result<Json<T>, axum::extract::rejection::JsonRejection>, expected: &str) -> Result<T, String> {
    body.map(|Json(b)| b).map_err(|e| format!("expected {expected}: {e}"))
}

fn bad_request(why: impl std::fmt::Display) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": why.to_string()}))).into_response()
}

/// A string as an SQL literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Runs an admin statement, as admin SQL runs it: 200, 400 if it does not parse, 409 with the
/// server's error. Its text is never logged (a CHANGE MASTER may hold a password).
async fn admin_statement(node: &Node, sql: &str) -> Response {
    let cmd = match binraft_core::primary::admin::parse_command(sql) {
        Some(Ok(cmd)) => cmd,
        Some(Err(e)) => return (StatusCode::BAD_REQUEST, Json(json!({"error": e.to_server_error(sql).message}))).into_response(),
        None => return (StatusCode::BAD_REQUEST, Json(json!({"error": "not an admin statement"}))).into_response(),
    };
    match node.admin(cmd).await {
        Ok(()) => Json(json!({"ok": true})).into_response(),
        Err(e) => {
            tracing::warn!(errno = e.code, "http api: refused: {}", e.message);
            (StatusCode::CONFLICT, Json(json!({"error": e.message, "errno": e.code}))).into_response()
        }
    }
}

async fn change_upstream(State(node): State<Arc<Node>>, headers: HeaderMap, body: Result<Json<Upstream>, axum::extract::rejection::JsonRejection>) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    let u = match json_body(body, "CHANGE MASTER TO's options as JSON") {
        Ok(u) => u,
        Err(why) => return bad_request(why),
    };
    let mut opts = Vec::new();
    let mut text = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            opts.push(format!("{name}={}", quoted(v)));
        }
    };
    text("MASTER_HOST", &u.host);
    text("MASTER_USER", &u.user);
    text("MASTER_PASSWORD", &u.password);
    text("MASTER_SSL_CA", &u.ssl_ca);
    for (name, v) in [("MASTER_PORT", u.port.map(u64::from)), ("MASTER_CONNECT_RETRY", u.connect_retry_s), ("MASTER_SSL", u.ssl.map(u64::from))] {
        if let Some(v) = v {
            opts.push(format!("{name}={v}"));
        }
    }
    if let Some(ms) = u.heartbeat_ms {
        opts.push(format!("MASTER_HEARTBEAT_PERIOD={}.{:03}", ms / 1000, ms % 1000));
    }
    if let Some(g) = u.use_gtid {
        opts.push(format!("MASTER_USE_GTID={}", if g { "slave_pos" } else { "no" }));
    }
    if opts.is_empty() {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "no option given"}))).into_response();
    }
    admin_statement(&node, &format!("CHANGE MASTER TO {}", opts.join(", "))).await
}

async fn start_upstream(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    admin_statement(&node, "START SLAVE").await
}

async fn stop_upstream(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    admin_statement(&node, "STOP SLAVE").await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Purge {
    to: Option<String>,
    before: Option<String>,
}

async fn purge(State(node): State<Arc<Node>>, headers: HeaderMap, body: Result<Json<Purge>, axum::extract::rejection::JsonRejection>) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    let sql = match json_body(body, r#"{"to": FILE} or {"before": TIME}"#) {
        Ok(Purge { to: Some(f), before: None }) => format!("PURGE BINARY LOGS TO {}", quoted(&f)),
        Ok(Purge { to: None, before: Some(t) }) => format!("PURGE BINARY LOGS BEFORE {}", quoted(&t)),
        Ok(_) => return bad_request("give one of \"to\" (a file) or \"before\" (YYYY-MM-DD hh:mm:ss)"),
        Err(why) => return bad_request(why),
    };
    admin_statement(&node, &sql).await
}

#[derive(serde::Deserialize)]
struct NewMember {
    node_id: u64,
    addr: String,
}

async fn add_member(State(node): State<Arc<Node>>, headers: HeaderMap, body: Result<Json<NewMember>, axum::extract::rejection::JsonRejection>) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    let m = match json_body(body, r#"{"node_id": N, "addr": "HOST:PORT"}"#) {
        Ok(m) => m,
        Err(why) => return bad_request(why),
    };
    if m.node_id == 0 || m.addr.rsplit_once(':').is_none_or(|(h, p)| h.is_empty() || p.parse::<u16>().is_err()) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "node_id must be 1 or more, addr HOST:PORT"}))).into_response();
    }
    members(&node, members_api::MemberChange::AddLearner { node_id: m.node_id, addr: m.addr }).await
}

async fn promote_member(State(node): State<Arc<Node>>, headers: HeaderMap, axum::extract::Path(id): axum::extract::Path<u64>) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    members(&node, members_api::MemberChange::Promote { node_id: id }).await
}

async fn remove_member(State(node): State<Arc<Node>>, headers: HeaderMap, axum::extract::Path(id): axum::extract::Path<u64>) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    members(&node, members_api::MemberChange::Remove { node_id: id }).await
}


async fn members(node: &Node, change: members_api::MemberChange) -> Response {
    let Some(c) = &node.cluster else {
        return (StatusCode::CONFLICT, Json(json!({"error": "a single node: start it with --peers to make a cluster"}))).into_response();
    };
    tracing::info!(?change, "http api: membership change asked");
    match c.change_members(change).await {
        Ok(done) => Json(json!({"ok": true, "detail": done})).into_response(),
        Err(why) => {
            tracing::warn!("http api: membership change refused: {why}");
            (StatusCode::CONFLICT, Json(json!({"error": why}))).into_response()
        }
    }
}

async fn metrics(State(node): State<Arc<Node>>, headers: HeaderMap) -> Response {
    if let Some(r) = refuse_unless_admin(&node, &headers) {
        return r;
    }
    match metrics_text(&node) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The node's gauges now, in OpenMetrics text.
fn metrics_text(node: &Node) -> Result<String, std::fmt::Error> {
    use prometheus_client::metrics::gauge::Gauge;
    let mut reg = prometheus_client::registry::Registry::with_prefix("binraft");
    reg.register("commit_seconds", "From receipt from the primary to committed (durable here on one node, on a majority in a cluster), per batch", node.commit_seconds.clone());
    let mut gauge = |name: &str, help: &str, v: i64| {
        let g: Gauge = Gauge::default();
        g.set(v);
        reg.register(name, help, g);
    };
    let files = node.store.files();
    gauge("store_files", "Binlog files stored", files.len() as i64);
    gauge("store_bytes", "Bytes of binlog stored (whole transactions)", files.iter().map(|f| f.complete_end as i64).sum());
    let (conns, dumps) = node.connection_counts();
    gauge("connections", "Open client connections", conns as i64);
    gauge("dumps", "Connections streaming the binlog (replicas, CDC clients)", dumps as i64);
    let up = node.replication.status.lock().map(|s| (s.io_running == "Yes", s.seconds_behind_master)).unwrap_or((false, None));
    gauge("upstream_running", "1 while this node pulls from the primary", i64::from(up.0));
    if let Some(lag) = up.1 {
        gauge("upstream_seconds_behind", "Seconds behind the primary (Seconds_Behind_Master)", lag as i64);
    }
    if let Some(c) = &node.cluster {
        let m = c.metrics();
        gauge("raft_leader", "1 while this node leads", i64::from(m.state == openraft::ServerState::Leader));
        gauge("raft_term", "The current term", m.current_term as i64);
        gauge("raft_last_log_index", "The last entry in this node's log", m.last_log_index.unwrap_or(0) as i64);
        gauge("raft_committed_index", "The last entry known committed", m.local_committed.map_or(0, |l| l.index) as i64);
        gauge("raft_applied_index", "The last entry applied to the binlog files", m.last_applied.map_or(0, |l| l.index) as i64);
        gauge("raft_voters", "Voters in the membership", m.membership_config.membership().voter_ids().count() as i64);
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg)?;
    Ok(out)
}

/// What `GET /v1/status` answers.
pub fn status_json(node: &Node) -> Value {
    let upstream = node.replication.status.lock().map(|s| json!({"state": s.io_running, "detail": s.io_state, "last_errno": s.last_io_errno, "last_error": s.last_io_error, "file": s.master_log_file, "position": s.read_master_log_pos})).unwrap_or(Value::Null);
    let mariadb = node.store.files().last().is_none_or(|f| f.mariadb);
    let mut v = json!({
        "server_id": node.server_id(),
        "upstream": upstream,
        "files": node.store.files().len(),
    });
    if mariadb {
        v["gtid_binlog_pos"] = json!(node.store.gtid_pos());
    } else {
        v["gtid_executed"] = json!(node.store.gtid_executed().to_string());
    }
    match &node.cluster {
        None => {
            v["role"] = json!("single");
        }
        Some(c) => {
            let m = c.metrics();
            v["node_id"] = json!(c.node_id);
            v["role"] = json!(c.role());
            v["leader_id"] = json!(m.current_leader);
            v["term"] = json!(m.current_term);
            v["committed_index"] = json!(m.local_committed.map(|l| l.index));
            v["applied_index"] = json!(m.last_applied.map(|l| l.index));
            v["last_log_index"] = json!(m.last_log_index);
            v["members"] = json!(m.membership_config.membership().voter_ids().collect::<Vec<_>>());
            v["learners"] = json!(m.membership_config.membership().learner_ids().collect::<Vec<_>>());
            v["snapshot_index"] = json!(m.snapshot.map(|l| l.index));
            v["purged_index"] = json!(m.purged.map(|l| l.index));
            // Catching up: receiving a snapshot (bytes of the files it lacks), or applying the
            // log behind the commit.
            let receiving = c.catch_up.lock().ok().and_then(|p| p.clone());
            v["catching_up"] = match receiving {
                Some(p) => json!({"by": "snapshot", "files": p.files, "files_done": p.files_done, "bytes": p.bytes, "received": p.received}),
                None => match (m.local_committed.map(|l| l.index), m.last_applied.map(|l| l.index)) {
                    (Some(c), a) if a.is_none_or(|a| a < c) => json!({"by": "log", "entries_behind": c - a.unwrap_or(0)}),
                    _ => Value::Null,
                },
            };
        }
    }
    v
}
