//! The replicated state machine's pieces, pure: what a cluster member needs besides openraft
//! itself (which the node drives).
//!
//! - [`log`]: the Raft log on a [`crate::store::Disk`]: records by index, kept until purged,
//!   truncation, a vote slot;
//! - [`request`]: what an entry carries (binlog groups where the primary has them, new files);
//! - [`apply`]: what each applied group adds to its file, derived from its bytes on every node;
//! - [`checkpoint`]: the applied point persisted once the files are synced, from which a
//!   restart applies the log again;
//! - [`committed`]: the last committed log id known, a hint kept without a sync, up to which a
//!   restart applies before it serves.

pub mod apply;
pub mod checkpoint;
pub mod committed;
pub mod log;
pub mod request;
