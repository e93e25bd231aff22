//! A [`Disk`] in memory that loses what a real disk may lose when the power goes: the store's
//! crash tests and the simulator run the real store over it.
//!
//! Per file it keeps the durable bytes and the writes since the last sync; per directory, the
//! durable names and the names now. A crash ([`MemDisk::crash`], or a power cut planted with
//! [`MemDisk::cut_power_after`]) keeps, for each file, a seeded prefix of its pending writes, the
//! last of them possibly torn at a 512-byte boundary, and the directory as it was at its last
//! sync. Faults: a sync that fails and loses the pages it was to write, a disk that fills, and
//! bits that flip at rest. Everything is deterministic given the seeds.

use super::disk::{Disk, DiskError, DiskErrorKind, DiskFile, DiskResult};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Writes are torn at this granularity (a disk sector).
pub const SECTOR_BYTES: u64 = 512;

#[derive(Debug, Clone, Default)]
pub struct MemDisk {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Clone)]
enum Pending {
    Write { offset: u64, bytes: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Default)]
struct Inode {
    durable: Vec<u8>,
    pending: Vec<Pending>,
    /// What reads see: `durable` with `pending` applied.
    now: Vec<u8>,
}

#[derive(Debug)]
struct State {
    /// Bumped by each crash: handles from before it are dead.
    epoch: u64,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    names: BTreeMap<String, u64>,
    durable_names: BTreeMap<String, u64>,
    capacity_bytes: u64,
    /// Mutating operations done so far.
    ops: u64,
    /// The power goes once `ops` reaches this: every operation fails until [`MemDisk::crash`].
    power_cut_at: Option<u64>,
    /// So many next syncs fail (and lose their pages).
    failing_syncs: u32,
    /// Syncs of the files whose names start with this succeed and make nothing durable.
    lying_syncs: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            epoch: 0,
            inodes: BTreeMap::new(),
            next_inode: 1,
            names: BTreeMap::new(),
            durable_names: BTreeMap::new(),
            capacity_bytes: u64::MAX,
            ops: 0,
            power_cut_at: None,
            failing_syncs: 0,
            lying_syncs: None,
        }
    }
}

fn apply(data: &mut Vec<u8>, p: &Pending) {
    match p {
        Pending::Write { offset, bytes } => {
            let at = *offset as usize;
            if data.len() < at + bytes.len() {
                data.resize(at + bytes.len(), 0);
            }
            data[at..at + bytes.len()].copy_from_slice(bytes);
        }
        Pending::SetLen(len) => data.resize(*len as usize, 0),
    }
}

fn unavailable(op: &'static str, name: &str) -> DiskError {
    DiskError::new(DiskErrorKind::Unavailable, op, name, "the disk is gone (power cut)")
}

impl State {
    fn used_bytes(&self) -> u64 {
        self.inodes.values().map(|i| i.now.len() as u64).sum()
    }

    /// Counts a mutating operation, or refuses it when the power is (now) cut.
    fn step(&mut self, op: &'static str, name: &str) -> DiskResult<()> {
        if self.power_cut_at.is_some_and(|at| self.ops >= at) {
            return Err(unavailable(op, name));
        }
        self.ops += 1;
        Ok(())
    }

    fn is_down(&self) -> bool {
        self.power_cut_at.is_some_and(|at| self.ops >= at)
    }

    fn inode_of(&self, name: &str, op: &'static str) -> DiskResult<u64> {
        self.names.get(name).copied().ok_or_else(|| DiskError::new(DiskErrorKind::NotFound, op, name, "no such file"))
    }
}

impl MemDisk {
    pub fn new() -> MemDisk {
        MemDisk::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The power goes after `ops` more mutating operations (writes, syncs, creates, renames,
    /// removes): that one and every later operation fail until [`MemDisk::crash`].
    pub fn cut_power_after(&self, ops: u64) {
        let mut s = self.lock();
        s.power_cut_at = Some(s.ops + ops);
    }

    /// Mutating operations done so far: where [`MemDisk::cut_power_after`] counts from.
    pub fn ops(&self) -> u64 {
        self.lock().ops
    }

    /// Whether a planted power cut has happened.
    pub fn is_down(&self) -> bool {
        self.lock().is_down()
    }

    /// The disk holds at most this many bytes; a write that would need more fails.
    pub fn set_capacity_bytes(&self, bytes: u64) {
        self.lock().capacity_bytes = bytes;
    }

    /// The capacity [`MemDisk::set_capacity_bytes`] set (`u64::MAX`: no limit).
    pub fn capacity_bytes(&self) -> u64 {
        self.lock().capacity_bytes
    }

    /// The bytes its files take now (what [`MemDisk::set_capacity_bytes`] counts).
    pub fn used_bytes(&self) -> u64 {
        self.lock().used_bytes()
    }

    /// The next `n` syncs fail, and the writes they were to make durable are lost.
    pub fn fail_next_syncs(&self, n: u32) {
        self.lock().failing_syncs = n;
    }

    /// From now on, a sync of a file whose name starts with `prefix` answers success and makes
    /// nothing durable: a write cache that lies, or a program that skips its fsync. The
    /// simulator's teeth plant it to prove that its invariants notice.
    pub fn lie_about_syncs_of(&self, prefix: &str) {
        self.lock().lying_syncs = Some(prefix.to_string());
    }

    /// What a power cut now would be sure to leave, read in place: the durable names and
    /// their durable bytes. Reads only; a removal only hides a name from this view.
    pub fn durable_view(&self) -> DurableView {
        DurableView { disk: self.clone(), hidden: Default::default() }
    }

    /// Flips one bit of `name` at rest (durable and visible alike).
    pub fn flip_bit(&self, name: &str, offset: u64, bit: u8) -> DiskResult<()> {
        let mut s = self.lock();
        let id = s.inode_of(name, "flip")?;
        let inode = s.inodes.get_mut(&id).ok_or_else(|| DiskError::new(DiskErrorKind::NotFound, "flip", name, "no inode"))?;
        for data in [&mut inode.durable, &mut inode.now] {
            if let Some(b) = data.get_mut(offset as usize) {
                *b ^= 1 << (bit % 8);
            }
        }
        Ok(())
    }

    /// The power goes and comes back: what survives is what was durable, plus, per file, a
    /// prefix (chosen by `seed`) of the writes since its last sync, the last one possibly torn
    /// at a sector boundary. Names come back as the last directory sync left them. Handles
    /// from before are dead.
    pub fn crash(&self, seed: u64) {
        let mut s = self.lock();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for inode in s.inodes.values_mut() {
            let pending = std::mem::take(&mut inode.pending);
            let keep = rng.gen_range(0..=pending.len());
            for p in &pending[..keep] {
                apply(&mut inode.durable, p);
            }
            if let Some(Pending::Write { offset, bytes }) = pending.get(keep) {
                // Torn: the sectors it covers are written in order, and the power went between two.
                let first = (offset / SECTOR_BYTES + 1) * SECTOR_BYTES;
                let end = offset + bytes.len() as u64;
                if first < end && rng.gen_bool(0.5) {
                    let sectors = (end - first).div_ceil(SECTOR_BYTES);
                    let cut = (first + rng.gen_range(0..sectors) * SECTOR_BYTES).min(end);
                    apply(&mut inode.durable, &Pending::Write { offset: *offset, bytes: bytes[..(cut - offset) as usize].to_vec() });
                }
            }
            inode.now = inode.durable.clone();
        }
        s.names = s.durable_names.clone();
        let live: std::collections::BTreeSet<u64> = s.names.values().copied().collect();
        s.inodes.retain(|id, _| live.contains(id));
        s.epoch += 1;
        s.power_cut_at = None;
        s.failing_syncs = 0;
    }

    /// A file's visible bytes (for tests and checkers), or None.
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        let s = self.lock();
        let id = s.names.get(name)?;
        s.inodes.get(id).map(|i| i.now.clone())
    }

    /// A file's visible length, or None; no copy.
    pub fn visible_len(&self, name: &str) -> Option<u64> {
        let s = self.lock();
        let id = s.names.get(name)?;
        s.inodes.get(id).map(|i| i.now.len() as u64)
    }

    /// `f` over a file's visible bytes, without a copy; None if there is no such file. The
    /// disk is locked while `f` runs.
    pub fn with_contents<R>(&self, name: &str, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let s = self.lock();
        let id = s.names.get(name)?;
        s.inodes.get(id).map(|i| f(&i.now))
    }

    /// Writes a file whole and durably, name included (seeding a disk).
    pub fn put(&self, name: &str, bytes: &[u8]) {
        let mut s = self.lock();
        let id = s.next_inode;
        s.next_inode += 1;
        s.inodes.insert(id, Inode { durable: bytes.to_vec(), pending: Vec::new(), now: bytes.to_vec() });
        s.names.insert(name.to_string(), id);
        s.durable_names.insert(name.to_string(), id);
    }
}

#[derive(Debug)]
struct MemFile {
    disk: MemDisk,
    inode: u64,
    epoch: u64,
    name: String,
}

impl MemFile {
    fn with<R>(&self, op: &'static str, mutates: bool, f: impl FnOnce(&mut State, u64) -> DiskResult<R>) -> DiskResult<R> {
        let mut s = self.disk.lock();
        if s.epoch != self.epoch || (!mutates && s.is_down()) {
            return Err(unavailable(op, &self.name));
        }
        if mutates {
            s.step(op, &self.name)?;
        }
        if !s.inodes.contains_key(&self.inode) {
            return Err(DiskError::new(DiskErrorKind::NotFound, op, &self.name, "the file was removed"));
        }
        f(&mut s, self.inode)
    }
}

impl DiskFile for MemFile {
    fn len(&self) -> DiskResult<u64> {
        self.with("stat", false, |s, id| Ok(s.inodes[&id].now.len() as u64))
    }

    fn read_at(&self, offset: u64, len: usize) -> DiskResult<Vec<u8>> {
        self.with("read", false, |s, id| {
            let now = &s.inodes[&id].now;
            let at = usize::try_from(offset).unwrap_or(usize::MAX);
            match now.get(at..at.saturating_add(len)) {
                Some(b) => Ok(b.to_vec()),
                None => Err(DiskError::new(DiskErrorKind::ShortRead, "read", &self.name, format!("{len} bytes at {offset}, the file has {}", now.len()))),
            }
        })
    }

    fn write_at(&self, offset: u64, bytes: &[u8]) -> DiskResult<()> {
        let name = self.name.clone();
        self.with("write", true, |s, id| {
            let grows = (offset + bytes.len() as u64).saturating_sub(s.inodes[&id].now.len() as u64);
            if s.used_bytes() + grows > s.capacity_bytes {
                return Err(DiskError::new(DiskErrorKind::NoSpace, "write", &name, "no space left on device"));
            }
            let p = Pending::Write { offset, bytes: bytes.to_vec() };
            let inode = s.inodes.get_mut(&id).ok_or_else(|| unavailable("write", &name))?;
            apply(&mut inode.now, &p);
            inode.pending.push(p);
            Ok(())
        })
    }

    fn set_len(&self, len: u64) -> DiskResult<()> {
        let name = self.name.clone();
        self.with("truncate", true, |s, id| {
            let grows = len.saturating_sub(s.inodes[&id].now.len() as u64);
            if s.used_bytes() + grows > s.capacity_bytes {
                return Err(DiskError::new(DiskErrorKind::NoSpace, "truncate", &name, "no space left on device"));
            }
            let inode = s.inodes.get_mut(&id).ok_or_else(|| unavailable("truncate", &name))?;
            apply(&mut inode.now, &Pending::SetLen(len));
            inode.pending.push(Pending::SetLen(len));
            Ok(())
        })
    }

    fn sync_data(&self) -> DiskResult<()> {
        let name = self.name.clone();
        self.with("sync", true, |s, id| {
            let failing = s.failing_syncs > 0;
            s.failing_syncs = s.failing_syncs.saturating_sub(1);
            if s.lying_syncs.as_ref().is_some_and(|p| name.starts_with(p.as_str())) {
                return Ok(());
            }
            let inode = s.inodes.get_mut(&id).ok_or_else(|| unavailable("sync", &name))?;
            if failing {
                inode.pending.clear();
                inode.now = inode.durable.clone();
                return Err(DiskError::new(DiskErrorKind::Failed, "sync", &name, "input/output error (the unsynced writes are lost)"));
            }
            for p in std::mem::take(&mut inode.pending) {
                apply(&mut inode.durable, &p);
            }
            Ok(())
        })
    }
}

impl Disk for MemDisk {
    fn create(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        let mut s = self.lock();
        s.step("create", name)?;
        let id = match s.names.get(name) {
            Some(&id) => {
                let inode = s.inodes.get_mut(&id).ok_or_else(|| unavailable("create", name))?;
                inode.now.clear();
                inode.pending.push(Pending::SetLen(0));
                id
            }
            None => {
                let id = s.next_inode;
                s.next_inode += 1;
                s.inodes.insert(id, Inode::default());
                s.names.insert(name.to_string(), id);
                id
            }
        };
        Ok(Arc::new(MemFile { disk: self.clone(), inode: id, epoch: s.epoch, name: name.to_string() }))
    }

    fn open(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        let s = self.lock();
        if s.is_down() {
            return Err(unavailable("open", name));
        }
        let id = s.inode_of(name, "open")?;
        Ok(Arc::new(MemFile { disk: self.clone(), inode: id, epoch: s.epoch, name: name.to_string() }))
    }

    fn rename(&self, from: &str, to: &str) -> DiskResult<()> {
        let mut s = self.lock();
        s.step("rename", from)?;
        let id = s.inode_of(from, "rename")?;
        s.names.remove(from);
        s.names.insert(to.to_string(), id);
        Ok(())
    }

    fn remove(&self, name: &str) -> DiskResult<()> {
        let mut s = self.lock();
        s.step("remove", name)?;
        s.inode_of(name, "remove")?;
        s.names.remove(name);
        Ok(())
    }

    fn list(&self) -> DiskResult<Vec<String>> {
        let s = self.lock();
        if s.is_down() {
            return Err(unavailable("list", ""));
        }
        Ok(s.names.keys().cloned().collect())
    }

    fn sync_dir(&self) -> DiskResult<()> {
        let mut s = self.lock();
        s.step("sync", "")?;
        s.durable_names = s.names.clone();
        Ok(())
    }

    fn free_bytes(&self) -> DiskResult<u64> {
        let s = self.lock();
        Ok(s.capacity_bytes.saturating_sub(s.used_bytes()))
    }
}

/// A [`MemDisk`] as a power cut now would leave it ([`MemDisk::durable_view`]): a checker
/// reads a node's disk through it without copying it.
#[derive(Debug)]
pub struct DurableView {
    disk: MemDisk,
    hidden: Mutex<std::collections::BTreeSet<String>>,
}

#[derive(Debug)]
struct DurableFile {
    disk: MemDisk,
    inode: u64,
    name: String,
}

fn read_only(op: &'static str, name: &str) -> DiskError {
    DiskError::new(DiskErrorKind::Failed, op, name, "a durable view is read-only")
}

impl DiskFile for DurableFile {
    fn len(&self) -> DiskResult<u64> {
        let s = self.disk.lock();
        s.inodes.get(&self.inode).map(|i| i.durable.len() as u64).ok_or_else(|| DiskError::new(DiskErrorKind::NotFound, "stat", &self.name, "the file was removed"))
    }

    fn read_at(&self, offset: u64, len: usize) -> DiskResult<Vec<u8>> {
        let s = self.disk.lock();
        let durable = &s.inodes.get(&self.inode).ok_or_else(|| DiskError::new(DiskErrorKind::NotFound, "read", &self.name, "the file was removed"))?.durable;
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        match durable.get(at..at.saturating_add(len)) {
            Some(b) => Ok(b.to_vec()),
            None => Err(DiskError::new(DiskErrorKind::ShortRead, "read", &self.name, format!("{len} bytes at {offset}, the file has {} durably", durable.len()))),
        }
    }

    fn write_at(&self, _offset: u64, _bytes: &[u8]) -> DiskResult<()> {
        Err(read_only("write", &self.name))
    }

    fn set_len(&self, _len: u64) -> DiskResult<()> {
        Err(read_only("truncate", &self.name))
    }

    fn sync_data(&self) -> DiskResult<()> {
        Err(read_only("sync", &self.name))
    }
}

impl DurableView {
    fn is_hidden(&self, name: &str) -> bool {
        self.hidden.lock().unwrap_or_else(|p| p.into_inner()).contains(name)
    }
}

impl Disk for DurableView {
    fn create(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        Err(read_only("create", name))
    }

    fn open(&self, name: &str) -> DiskResult<Arc<dyn DiskFile>> {
        let s = self.disk.lock();
        match s.durable_names.get(name) {
            Some(&inode) if !self.is_hidden(name) => Ok(Arc::new(DurableFile { disk: self.disk.clone(), inode, name: name.to_string() })),
            _ => Err(DiskError::new(DiskErrorKind::NotFound, "open", name, "no such file (durably)")),
        }
    }

    fn rename(&self, from: &str, _to: &str) -> DiskResult<()> {
        Err(read_only("rename", from))
    }

    fn remove(&self, name: &str) -> DiskResult<()> {
        self.hidden.lock().unwrap_or_else(|p| p.into_inner()).insert(name.to_string());
        Ok(())
    }

    fn list(&self) -> DiskResult<Vec<String>> {
        let s = self.disk.lock();
        Ok(s.durable_names.keys().filter(|n| !self.is_hidden(n)).cloned().collect())
    }

    fn sync_dir(&self) -> DiskResult<()> {
        Ok(())
    }

    fn free_bytes(&self) -> DiskResult<u64> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::disk::write_atomically;

    #[test]
    fn only_synced_bytes_and_synced_names_are_sure_to_survive() {
        let d = MemDisk::new();
        let f = d.create("a").unwrap();
        f.write_at(0, b"durable").unwrap();
        f.sync_data().unwrap();
        // The data is synced but the name is not: a crash forgets the file.
        d.crash(1);
        assert_eq!(d.contents("a"), None);
        let f = d.create("a").unwrap();
        f.write_at(0, b"durable").unwrap();
        f.sync_data().unwrap();
        d.sync_dir().unwrap();
        f.write_at(7, &[9u8; 2000]).unwrap();
        d.crash(2);
        assert!(f.len().is_err(), "a handle from before the crash is dead");
        let after = d.contents("a").unwrap();
        assert_eq!(&after[..7], b"durable");
        assert!(after[7..].iter().all(|&b| b == 9));
        // Across seeds, the unsynced write is kept, lost or torn at a sector boundary.
        let mut lens = std::collections::BTreeSet::new();
        for seed in 0..64 {
            let d = MemDisk::new();
            let f = d.create("a").unwrap();
            d.sync_dir().unwrap();
            f.write_at(100, &[1u8; 2000]).unwrap();
            d.crash(seed);
            let len = d.contents("a").unwrap().len() as u64;
            assert!(len == 0 || len == 2100 || len.is_multiple_of(SECTOR_BYTES), "{len}");
            lens.insert(len);
        }
        assert!(lens.contains(&0) && lens.contains(&2100) && lens.len() > 2, "{lens:?}");
    }

    #[test]
    fn renames_need_a_directory_sync_and_atomic_writes_are_whole() {
        let d = MemDisk::new();
        write_atomically(&d, "index", b"old").unwrap();
        let tmp = d.create("index.tmp").unwrap();
        tmp.write_at(0, b"new").unwrap();
        tmp.sync_data().unwrap();
        d.rename("index.tmp", "index").unwrap();
        assert_eq!(d.contents("index").as_deref(), Some(&b"new"[..]));
        d.crash(0);
        assert_eq!(d.contents("index").as_deref(), Some(&b"old"[..]));
        // A power cut at every step of an atomic write leaves the old or the new, whole.
        for step in 0..6 {
            for seed in 0..4 {
                let d = MemDisk::new();
                write_atomically(&d, "index", b"old").unwrap();
                d.cut_power_after(step);
                let _ = write_atomically(&d, "index", b"new!");
                d.crash(seed);
                let got = d.contents("index").unwrap();
                assert!(got == b"old" || got == b"new!", "step {step} seed {seed}: {got:?}");
            }
        }
    }

    #[test]
    fn the_durable_view_shows_what_a_power_cut_now_would_be_sure_to_leave() {
        let d = MemDisk::new();
        let f = d.create("a").unwrap();
        f.write_at(0, b"synced").unwrap();
        f.sync_data().unwrap();
        let v = d.durable_view();
        // Not yet named durably.
        assert!(v.list().unwrap().is_empty());
        d.sync_dir().unwrap();
        f.write_at(6, b" and not").unwrap();
        assert_eq!(v.list().unwrap(), vec!["a".to_string()]);
        let a = v.open("a").unwrap();
        assert_eq!((a.len().unwrap(), a.read_at(0, 6).unwrap()), (6, b"synced".to_vec()));
        assert!(a.read_at(0, 7).is_err());
        assert!(a.write_at(0, b"x").is_err() && v.create("b").is_err());
        // A removal only hides the name from the view.
        v.remove("a").unwrap();
        assert!(v.list().unwrap().is_empty() && d.open("a").is_ok());
    }

    #[test]
    fn a_lying_sync_answers_success_and_keeps_nothing() {
        let d = MemDisk::new();
        let (log, data) = (d.create("raft-log.1").unwrap(), d.create("data").unwrap());
        d.sync_dir().unwrap();
        d.lie_about_syncs_of("raft-log.");
        log.write_at(0, b"entry").unwrap();
        data.write_at(0, b"bytes").unwrap();
        log.sync_data().unwrap();
        data.sync_data().unwrap();
        let v = d.durable_view();
        assert_eq!((v.open("raft-log.1").unwrap().len().unwrap(), v.open("data").unwrap().read_at(0, 5).unwrap()), (0, b"bytes".to_vec()));
    }

    #[test]
    fn faults_fail_the_operation_and_lose_what_they_say() {
        let d = MemDisk::new();
        let f = d.create("a").unwrap();
        d.sync_dir().unwrap();
        f.write_at(0, b"abc").unwrap();
        d.fail_next_syncs(1);
        assert_eq!(f.sync_data().unwrap_err().kind, DiskErrorKind::Failed);
        assert_eq!(f.len().unwrap(), 0, "a failed sync loses its pages");
        f.write_at(0, b"abc").unwrap();
        f.sync_data().unwrap();
        d.set_capacity_bytes(5);
        assert_eq!(f.write_at(3, b"def").unwrap_err().kind, DiskErrorKind::NoSpace);
        f.write_at(3, b"de").unwrap();
        d.flip_bit("a", 1, 0).unwrap();
        assert_eq!(f.read_at(0, 5).unwrap(), b"accde", "bit 0 of the b flipped");
        assert_eq!(f.read_at(3, 5).unwrap_err().kind, DiskErrorKind::ShortRead);
        d.cut_power_after(0);
        assert_eq!(f.write_at(0, b"x").unwrap_err().kind, DiskErrorKind::Unavailable);
        assert!(d.is_down());
    }
}
