//! The binlog codec.
//!
//! Bytes in, events out, and back: [`frame`] cuts bytes into events and checks checksums,
//! [`events`] decodes and encodes each body, [`value`] decodes row images into typed values,
//! [`decoder`] keeps the state between events (format description, table maps), and [`render`]
//! shows events to people. Nothing here does I/O; the stream decoder is fed chunks by its caller.

pub mod checksum;
pub mod compress;
pub mod decoder;
pub mod error;
pub mod event;
pub mod event_type;
pub mod events;
pub mod frame;
pub mod header;
pub mod render;
pub mod value;

pub use checksum::ChecksumAlg;
pub use decoder::{Decoder, StreamDecoder};
pub use error::{BinlogError, BodyError};
pub use event::Event;
pub use event_type::EventType;
pub use events::EventBody;
pub use header::EventHeader;
