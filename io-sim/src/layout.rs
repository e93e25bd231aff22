//! binraft's binlog as every node must hold it: the files, their bytes, and where each of the
//! primaries' transactions lies in them. The invariants compare every node's files and every
//! replica's stream with it.
//!
//! Until a change of primary, binraft keeps the primary's files byte for byte, so the layout
//! is the primary's own log, followed as it grows ([`Layout::follow`]). After a change of
//! primary ([`Layout::switch`]), binraft writes files of its own (`OwnLayout` in core's upstream
//! session): it closes the file it was in with a ROTATE of its own, and goes on in the next
//! name with the new primary's FORMAT_DESCRIPTION, its own GTID_LIST and BINLOG_CHECKPOINT, and
//! the new primary's transactions at its own positions. Those bytes cannot be known in
//! advance, so the layout learns them from the nodes' files ([`Layout::observe`]), once, and
//! checks them as it learns: the first bytes that differ from the old primary's must be at a
//! transaction's boundary (the cut: once, in one file), every event after it is whole, has its
//! checksum and its end position in binraft's file, the GTID_LIST says what came before, a
//! ROTATE ends its file and names the next, and the transactions are the new primary's, in its
//! order, right after the last one before the cut, each event the new primary's own but for its
//! position and checksum. Bytes no node showed yet are not known; whatever a node shows later
//! must agree with what was learned (byte-identical prefixes).

use crate::binlog::{gtid_pos, last_gtids, same_but_position, PrimaryLog, Txn};
use binraft_core::binlog::decoder::Decoder;
use binraft_core::binlog::frame::BINLOG_MAGIC;
use binraft_core::binlog::{EventBody, EventType};
use binraft_core::store::groups::GroupTracker;
use binraft_core::store::index::summarize;
use std::sync::{Arc, Mutex, MutexGuard};

/// Where binraft's own bytes begin: in `files[file]` at `offset`, after the first `txns`
/// transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub file: usize,
    pub offset: u64,
    pub txns: usize,
}

#[derive(Debug, Default)]
pub struct LayoutState {
    /// Oldest first: name and bytes (as far as known).
    pub files: Vec<(String, Vec<u8>)>,
    /// The transactions of the primaries, in order, where they lie in [`LayoutState::files`].
    pub txns: Vec<Txn>,
    /// A change of primary was made: binraft's own bytes may begin.
    pub switched: bool,
    /// Where they began, once a node showed them.
    pub cut: Option<Cut>,
}

/// The shared layout.
#[derive(Clone, Default)]
pub struct Layout(Arc<Mutex<LayoutState>>);

impl Layout {
    pub fn lock(&self) -> MutexGuard<'_, LayoutState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The offsets of `file` where no group is open: its start, and the end of every group.
fn boundaries(file: &[u8]) -> Vec<usize> {
    let mut groups = GroupTracker::new();
    let ends = Decoder::decode_file(file).map_while(Result::ok).filter(|ev| groups.observe(ev)).map(|ev| ev.offset as usize + ev.header.event_size as usize);
    std::iter::once(BINLOG_MAGIC.len()).chain(ends).collect()
}

impl LayoutState {
    pub fn file_index(&self, name: &str) -> Option<usize> {
        self.files.iter().position(|(n, _)| n == name)
    }

    /// Before a change of primary: the layout is the primary's log, as far as it has written.
    pub fn follow(&mut self, log: &PrimaryLog) {
        if self.switched {
            return;
        }
        // Only the last file known can have grown; later ones are new.
        let last = self.files.len().saturating_sub(1);
        for (i, (name, bytes)) in log.files.iter().enumerate().skip(last) {
            match self.files.get_mut(i) {
                Some((_, ours)) => ours.extend_from_slice(&bytes[ours.len()..]),
                None => self.files.push((name.clone(), bytes.clone())),
            }
        }
        self.txns.extend_from_slice(&log.txns[self.txns.len()..]);
    }

    /// A change of primary is on its way: from now on binraft may write its own files.
    pub fn switch(&mut self) {
        self.switched = true;
    }

    /// A node (`who`) shows `name` holding `bytes`: they must agree with what is known, and
    /// what they hold beyond it is learned, checked against `reference` (the primary binraft
    /// follows now). A file after the last known one is looked at once its predecessor is.
    pub fn observe(&mut self, who: &str, name: &str, bytes: &[u8], reference: &PrimaryLog) -> Result<(), String> {
        let Some(fi) = self.file_index(name) else {
            if !self.switched {
                return Err(format!("{who} holds {name}, which the primary does not have"));
            }
            // binraft's next own file, once the last known one is closed by a ROTATE naming it.
            let Some((last_name, last)) = self.files.last() else { return Ok(()) };
            if self.cut.is_none() || summarize(last_name, last).ok().and_then(|s| s.next_file).as_deref() != Some(name) {
                return Ok(());
            }
            self.files.push((name.to_string(), BINLOG_MAGIC.to_vec()));
            return self.observe(who, name, bytes, reference);
        };
        let ours = &self.files[fi].1;
        if ours.starts_with(bytes) {
            return Ok(());
        }
        let common = ours.iter().zip(bytes).take_while(|(a, b)| a == b).count();
        let own = self.cut.is_some_and(|c| fi >= c.file);
        if common == ours.len() && own {
            return self.extend(who, fi, bytes, reference);
        }
        if !self.switched || self.cut.is_some() {
            return Err(format!("{who}: {name} ({} bytes) is not a prefix of binraft's ({} bytes): first difference at {common}", bytes.len(), ours.len()));
        }
        // binraft's own bytes begin here: at the last boundary between transactions before
        // the difference.
        let at = boundaries(ours).into_iter().rfind(|&b| b <= common).unwrap_or(BINLOG_MAGIC.len());
        self.files.truncate(fi + 1);
        self.files[fi].1.truncate(at);
        let before = self.txns.partition_point(|t| (t.file, t.end) <= (fi, at as u64));
        self.txns.truncate(before);
        self.cut = Some(Cut { file: fi, offset: at as u64, txns: before });
        self.extend(who, fi, bytes, reference)
    }

    /// Learns `bytes` of file `fi` beyond what is known (a prefix of them): whole events, up to
    /// the last whole group, each checked.
    fn extend(&mut self, who: &str, fi: usize, bytes: &[u8], reference: &PrimaryLog) -> Result<(), String> {
        let known = self.files[fi].1.len();
        let name = self.files[fi].0.clone();
        let bad = |at: usize, what: String| format!("{who}: {name} at {at}, in binraft's own layout: {what}");
        let (mut learned, mut at) = (known, BINLOG_MAGIC.len());
        let mut group: Vec<(usize, usize)> = Vec::new();
        let (mut groups, mut closed) = (GroupTracker::new(), false);
        // Decoded from the file's start (the FORMAT_DESCRIPTION says how), checked from
        // `known`; an event not whole yet waits.
        let mut dec = Decoder::for_file();
        while let Some(ev) = dec.decode_next(&bytes[at..], at as u64).map_err(|e| bad(at, format!("does not decode: {e}")))? {
            let size = ev.header.event_size as usize;
            let ends = groups.observe(&ev);
            let start = at;
            at += size;
            if start < known {
                closed = matches!(ev.body, EventBody::Rotate(_));
                continue;
            }
            if closed {
                return Err(bad(start, "an event after the ROTATE that ends the file".into()));
            }
            if ev.header.log_pos as usize != start + size {
                return Err(bad(start, format!("its end position says {}", ev.header.log_pos)));
            }
            let kind = ev.kind;
            if kind == EventType::MARIADB_GTID || !group.is_empty() {
                group.push((start, size));
                if !ends {
                    continue;
                }
                let (first, end) = (group[0].0, start + size);
                let i = self.txns.len();
                let Some(t) = reference.txns.get(i) else { return Err(bad(first, format!("a transaction after the primary's last ({i})"))) };
                let theirs = &reference.files[t.file].1[t.offset as usize..t.end as usize];
                let mut off = 0;
                for &(a, s) in &group {
                    if !theirs.get(off..off + s).is_some_and(|e| same_but_position(e, &bytes[a..a + s])) {
                        let expected = gtid_pos(&self.txns);
                        return Err(bad(first, format!("transaction {i} is not the primary's {} (after {expected})", t.spec.gtid)));
                    }
                    off += s;
                }
                if off != theirs.len() {
                    return Err(bad(first, format!("transaction {i} ({}) is shorter than the primary's", t.spec.gtid)));
                }
                self.txns.push(Txn { spec: t.spec, file: fi, offset: first as u64, end: end as u64 });
                group.clear();
                learned = end;
                continue;
            }
            match &ev.body {
                EventBody::FormatDescription(_) if start == BINLOG_MAGIC.len() => {}
                EventBody::GtidList(l) => {
                    let want = last_gtids(&self.txns);
                    if l.gtids.len() != want.len() || l.gtids.iter().any(|g| want.get(&g.domain) != Some(g)) {
                        let got = l.gtids.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(",");
                        return Err(bad(start, format!("a GTID_LIST of [{got}] after [{}]", gtid_pos(&self.txns))));
                    }
                }
                EventBody::BinlogCheckpoint(_) => {}
                EventBody::Rotate(r) => {
                    let next = binraft_core::store::names::next_binlog_name(&name);
                    if r.next_file != next.as_bytes() {
                        return Err(bad(start, format!("a ROTATE to {} after {name}", String::from_utf8_lossy(&r.next_file))));
                    }
                    closed = true;
                }
                _ => return Err(bad(start, format!("an event of type {kind:?} outside a transaction"))),
            }
            learned = start + size;
        }
        self.files[fi].1.extend_from_slice(&bytes[known..learned]);
        Ok(())
    }
}
