//! binraft's drivers on madsim: the same node code as `io-tokio`, run inside the simulator with a
//! simulated network (partitions, loss, delay), a simulated disk that loses unsynced writes on a
//! crash, node kill and restart, and a simulated primary and replicas.
//!
//! Empty until the node exists (issue 4): the simulator drives the node's state machines, so
//! it is built with them, not before.
