//! Any bytes, as a binlog file, as a stream fed in chunks, and as GTID sets: an error or a
//! decode, never a panic, a hang or an unbounded allocation.
#![no_main]

use binraft_core::binlog::decoder::{Decoder, StreamDecoder};
use binraft_core::binlog::render::{describe, text_line};
use binraft_core::gtid::{GtidSet, MariaGtidPos};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a whole file; every decoded event must re-encode and render.
    for ev in Decoder::decode_file(data).flatten() {
        let _ = ev.encode();
        let _ = text_line(&describe(&ev, &|_| None));
    }
    // As a stream in chunks whose size the first byte picks.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    let mut s = StreamDecoder::for_file();
    for c in data.chunks(chunk) {
        s.handle_bytes(c);
        while let Some(ev) = s.poll_event() {
            if ev.is_err() {
                break;
            }
        }
    }
    let _ = s.finish();
    // As GTID sets.
    let _ = GtidSet::decode(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = GtidSet::parse(text);
        let _ = MariaGtidPos::parse(text);
    }
});
