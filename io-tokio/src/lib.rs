//! The binraft node on tokio, as a library: the binary (`src/main.rs`) and in-process tests start
//! it with [`server::run`]; io-sim builds the same code with `--cfg madsim`.
//!
//! - [`server`]: the MySQL port, one task per connection driving core's `ServerConn` and `Dump`.
//! - [`upstream`]: the pull from the primary, driving core's `UpstreamSession` into the store.
//! - [`store`]: core's binlog store over the data directory ([`disk`]), waking dumps ([`notify`]).
//! - [`cluster`]: the node as a member of a Raft cluster (openraft): the log, apply, the Raft port.
//! - [`http`]: the HTTP admin API (status, health).
//! - [`admin`]: CHANGE MASTER TO, START/STOP SLAVE, PURGE as a DBA runs them.
//! - [`config`]: flags over a TOML file over defaults; [`tls`]: rustls on both sides.

pub mod admin;
pub mod cluster;
pub mod config;
pub mod disk;
// axum serves real tokio's sockets only: the simulator reads status through the library.
#[cfg(not(madsim))]
pub mod http;
pub mod notify;
#[cfg(madsim)]
pub mod planted;
pub mod server;
pub mod store;
pub mod time;
pub mod tls;
pub mod upstream;
