//! binraft's Raft types: entries carry binlog groups ([`Request`]), nodes are numbered and
//! named by their Raft address.

use binraft_core::cluster::request::{Request, Response};

openraft::declare_raft_types!(
    /// The cluster's type configuration.
    pub Types:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        AsyncRuntime = super::runtime::NodeRuntime,
);

pub type Raft = openraft::Raft<Types, super::state_machine::StateMachine>;
pub type LogId = openraft::type_config::alias::LogIdOf<Types>;
pub type Vote = openraft::type_config::alias::VoteOf<Types>;
pub type Entry = openraft::type_config::alias::EntryOf<Types>;
pub type StoredMembership = openraft::type_config::alias::StoredMembershipOf<Types>;
