//! The upstream driver: connects to the primary, drives the core's `UpstreamSession`, and
//! applies what it decides to the store. Reconnects with backoff forever; each session resumes
//! right after the last complete group stored.

use crate::store::Store;
use binraft_core::upstream::{UpstreamConfig, UpstreamOutput, UpstreamSession};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

pub async fn run(primary: String, cfg: UpstreamConfig, store: &Store) {
    let start = Instant::now();
    let mut backoff = BACKOFF_MIN;
    loop {
        let resume = store.resume_point();
        let outcome = match TcpStream::connect(&primary).await {
            Ok(stream) => session(stream, &cfg, resume.clone(), store, start).await,
            Err(e) => Err((format!("cannot connect: {e}"), false, false)),
        };
        match outcome {
            Ok(()) => {}
            Err((reason, fatal, streamed)) => {
                if streamed {
                    backoff = BACKOFF_MIN;
                }
                if fatal {
                    tracing::error!(%primary, ?resume, "upstream: {reason}; retrying in {BACKOFF_MAX:?}");
                    backoff = BACKOFF_MAX;
                } else {
                    tracing::warn!(%primary, ?resume, "upstream: {reason}; reconnecting in {backoff:?}");
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One session; `Err((reason, fatal, streamed_anything))` when it ends.
async fn session(mut stream: TcpStream, cfg: &UpstreamConfig, resume: binraft_core::upstream::Resume, store: &Store, t0: Instant) -> Result<(), (String, bool, bool)> {
    let now = || t0.elapsed().as_millis() as u64;
    let mut s = UpstreamSession::new(cfg.clone(), resume, now());
    let mut buf = vec![0u8; 256 * 1024];
    let mut streamed = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        while let Some(o) = s.poll_output() {
            match o {
                UpstreamOutput::Send(b) => stream.write_all(&b).await.map_err(|e| (format!("write: {e}"), false, streamed))?,
                UpstreamOutput::Connected { server_version } => tracing::info!(%server_version, "upstream: logged in to the primary"),
                UpstreamOutput::NewFile { file } => {
                    store.create_file(&file).map_err(|e| (format!("store: create {file}: {e}"), true, streamed))?;
                    tracing::info!(%file, "upstream: new binlog file");
                }
                UpstreamOutput::Append { file, offset, bytes, info } => {
                    store.append(&file, offset, &bytes, &info).map_err(|e| (format!("store: {e}"), true, streamed))?;
                    streamed = true;
                }
                UpstreamOutput::Failed { reason, fatal } => return Err((reason, fatal, streamed)),
            }
        }
        tokio::select! {
            n = stream.read(&mut buf) => {
                let n = n.map_err(|e| (format!("read: {e}"), false, streamed))?;
                if n == 0 {
                    return Err(("the primary closed the connection".into(), false, streamed));
                }
                s.handle_bytes(&buf[..n], now());
            }
            _ = tick.tick() => {
                if s.is_silent(now()) {
                    return Err(("the primary is silent (no heartbeat)".into(), false, streamed));
                }
            }
        }
    }
}
