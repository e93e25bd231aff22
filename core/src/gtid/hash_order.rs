//! The order in which MariaDB lists the entries of a mysys `HASH` keyed by a `uint32`.
//!
//! In: `u32` keys, inserted one by one (never removed). Out: the keys in the order of the
//! hash's record array, the order MariaDB walks with `my_hash_element(&hash, i)` for `i` in
//! `0..records`.
//!
//! MariaDB lists its GTID states that way: `rpl_binlog_state::get_gtid_list` walks the domains'
//! hash, and within each domain the servers' hash (keyed by the 4-byte domain and server ids,
//! charset `binary`). A GTID_LIST binraft makes up for a dump must name its GTIDs in the same
//! order for the stream to be MariaDB's byte for byte, and that order is not the order of
//! insertion: mysys hashes with linear hashing, and every insert may split a bucket's chain
//! and move records within the array. This module reproduces MariaDB 10.11's
//! `mysys/hash.c` (`my_hash_insert`, `my_hash_mask`, `movelink`) and the `binary` collation's
//! `my_hash_sort_bin` exactly; `io-tokio/tests/wire.rs` holds binraft to MariaDB's stream.

/// mysys's "no next record" (`NO_RECORD`).
const NONE: u32 = u32::MAX;

/// The split loop's state bits (mysys's `LOWFIND`, `LOWUSED`, `HIGHFIND`, `HIGHUSED`): a record
/// that stays in the lower bucket was seen, and the link to it is written; the same for the
/// upper bucket.
const LOW_FOUND: u8 = 1;
const LOW_USED: u8 = 2;
const HIGH_FOUND: u8 = 4;
const HIGH_USED: u8 = 8;

/// mysys `my_hash_sort` of a `u32` key with `my_charset_bin`: its 4 bytes as they lie in memory
/// on x86-64 (little endian), fed to `MY_HASH_ADD` on a C `ulong` (64 bits on Linux), the hash
/// being the low 32 bits.
pub fn hash_key(key: u32) -> u32 {
    let (mut nr1, mut nr2): (u64, u64) = (1, 4);
    for b in key.to_le_bytes() {
        nr1 ^= ((nr1 & 63).wrapping_add(nr2)).wrapping_mul(u64::from(b)).wrapping_add(nr1 << 8);
        nr2 = nr2.wrapping_add(3);
    }
    nr1 as u32
}

/// `my_hash_mask`: the bucket of `hash` in a table of `records` records whose size rounds up
/// to `blength` (a power of two): the upper half's buckets not allocated yet fall back to their
/// lower twin.
fn bucket(hash: u32, blength: usize, records: usize) -> usize {
    let h = hash as usize;
    if h & (blength - 1) < records {
        h & (blength - 1)
    } else {
        h & ((blength >> 1) - 1)
    }
}

/// One slot of the record array (mysys `HASH_LINK`): the key stands for the record's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    key: u32,
    hash: u32,
    next: u32,
}

/// A mysys `HASH` of `u32` keys reduced to what decides its order: the record array and its
/// chains. Keys are unique (`HASH_UNIQUE`, as MariaDB's GTID states have them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashOrder {
    /// The table's size rounded up to a power of two; 1 when empty, as `my_hash_init` sets it.
    blength: usize,
    links: Vec<Link>,
}

impl Default for HashOrder {
    fn default() -> Self {
        HashOrder { blength: 1, links: Vec::new() }
    }
}

impl HashOrder {
    pub fn new() -> Self {
        HashOrder::default()
    }

    pub fn len(&self) -> usize {
        self.links.len()
    }

    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The keys in the record array's order: the order MariaDB lists them in.
    pub fn keys(&self) -> impl Iterator<Item = u32> + '_ {
        self.links.iter().map(|l| l.key)
    }

    /// Whether `key` is in, looked up as `my_hash_search` does: along the chain of its bucket,
    /// which starts there only if the record there belongs to that bucket.
    pub fn contains(&self, key: u32) -> bool {
        if self.links.is_empty() {
            return false;
        }
        let hash = hash_key(key);
        let mut idx = bucket(hash, self.blength, self.len());
        if bucket(self.links[idx].hash, self.blength, self.len()) != idx {
            return false;
        }
        loop {
            let l = self.links[idx];
            if l.key == key {
                return true;
            }
            if l.next == NONE {
                return false;
            }
            idx = l.next as usize;
        }
    }

    /// Inserts `key` as `my_hash_insert` does; a key already in changes nothing (false).
    pub fn insert(&mut self, key: u32) -> bool {
        if self.contains(key) {
            return false;
        }
        let hash = hash_key(key);
        let records = self.links.len();
        let blength = self.blength;
        // The new slot at the array's end is the free one; the split may free another.
        self.links.push(Link { key: 0, hash: 0, next: NONE });
        let mut empty = records;
        let halfbuff = blength >> 1;
        let first_index = records - halfbuff;
        if first_index != records {
            // Growing by one splits the bucket `first_index` (its chain starts there) into
            // itself and `first_index + halfbuff` by the hash bit `halfbuff`: each half is
            // relinked in chain order, the records of a half moved into the slots the chain
            // frees. `low`/`high` are the last record of each half seen, waiting for a link,
            // and the slot it goes to.
            let mut flag = 0u8;
            let (mut low_at, mut high_at) = (0usize, 0usize);
            let (mut low, mut high) = (Link { key: 0, hash: 0, next: NONE }, Link { key: 0, hash: 0, next: NONE });
            let mut idx = first_index;
            loop {
                let pos = idx;
                let here = self.links[pos];
                if flag == 0 && bucket(here.hash, blength, records) != first_index {
                    // The slot holds a record of another bucket: this one is empty.
                    break;
                }
                if here.hash as usize & halfbuff == 0 {
                    if flag & LOW_FOUND == 0 {
                        if flag & HIGH_FOUND != 0 {
                            // The first low record after a high one: it moves to the free slot.
                            flag = LOW_FOUND | HIGH_FOUND;
                            low_at = empty;
                            empty = pos;
                        } else {
                            // A low record ahead of every high one stays where it is.
                            flag = LOW_FOUND | LOW_USED;
                            low_at = pos;
                        }
                        low = here;
                    } else {
                        if flag & LOW_USED == 0 {
                            self.links[low_at] = Link { next: pos as u32, ..low };
                            flag = (flag & HIGH_FOUND) | LOW_FOUND | LOW_USED;
                        }
                        low_at = pos;
                        low = here;
                    }
                } else if flag & HIGH_FOUND == 0 {
                    // The first high record moves to the free slot; its own slot is free now.
                    flag = (flag & LOW_FOUND) | HIGH_FOUND;
                    high_at = empty;
                    empty = pos;
                    high = here;
                } else {
                    if flag & HIGH_USED == 0 {
                        self.links[high_at] = Link { next: pos as u32, ..high };
                        flag = (flag & LOW_FOUND) | HIGH_FOUND | HIGH_USED;
                    }
                    high_at = pos;
                    high = here;
                }
                let next = self.links[pos].next;
                if next == NONE {
                    break;
                }
                idx = next as usize;
            }
            if flag & (LOW_FOUND | LOW_USED) == LOW_FOUND {
                self.links[low_at] = Link { next: NONE, ..low };
            }
            if flag & (HIGH_FOUND | HIGH_USED) == HIGH_FOUND {
                self.links[high_at] = Link { next: NONE, ..high };
            }
        }
        // The new record goes to its bucket's slot; a record of another bucket there moves to
        // the free slot, and whichever chain it was on is relinked to it.
        let idx = bucket(hash, blength, records + 1);
        if idx == empty {
            self.links[idx].next = NONE;
        } else {
            let moved = self.links[idx];
            self.links[empty] = moved;
            let home = bucket(moved.hash, blength, records + 1);
            if home == idx {
                self.links[idx].next = empty as u32;
            } else {
                self.links[idx].next = NONE;
                self.relink(home, idx, empty);
            }
        }
        self.links[idx].key = key;
        self.links[idx].hash = hash;
        if records + 1 == self.blength {
            self.blength *= 2;
        }
        true
    }

    /// `movelink`: on the chain from `start`, the link to `from` points to `to` instead.
    fn relink(&mut self, start: usize, from: usize, to: usize) {
        let mut at = start;
        while self.links[at].next as usize != from {
            at = self.links[at].next as usize;
        }
        self.links[at].next = to as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand from the formula (`nr1 ^= ((nr1 & 63) + nr2) * b + (nr1 << 8); nr2 += 3`
    /// from nr1 = 1, nr2 = 4), in hex, the low 32 bits kept at the end:
    /// - 0, bytes 00 00 00 00: each step xors in nr1 << 8 only: 1 → 101 → 10001 → 1010101 →
    ///   100000001: 1.
    /// - 1, bytes 01 00 00 00: (1 + 4) * 1 + 100 = 105, 1 ^ 105 = 104; 104 ^ 10400 = 10504;
    ///   10504 ^ 1050400 = 1040104; 1040104 ^ 104010400 = 105050504: 05050504.
    /// - 2, bytes 02 00 00 00: (1 + 4) * 2 + 100 = 10a, 1 ^ 10a = 10b; 10b ^ 10b00 = 10a0b;
    ///   10a0b ^ 10a0b00 = 10b010b; 10b010b ^ 10b010b00 = 10a0a0a0b: 0a0a0a0b.
    /// - 256, bytes 00 01 00 00 (little endian: the second byte is 1): 1 ^ 100 = 101, nr2 = 7;
    ///   (1 + 7) * 1 + 10100 = 10108, 101 ^ 10108 = 10009; 10009 ^ 1000900 = 1010909;
    ///   1010909 ^ 101090900 = 100080009: 00080009.
    #[test]
    fn hash_of_keys_worked_by_hand() {
        assert_eq!(hash_key(0), 0x0000_0001);
        assert_eq!(hash_key(1), 0x0505_0504);
        assert_eq!(hash_key(2), 0x0a0a_0a0b);
        assert_eq!(hash_key(256), 0x0008_0009);
    }

    fn order(keys: &[u32]) -> Vec<u32> {
        let mut h = HashOrder::new();
        for &k in keys {
            assert!(h.insert(k));
        }
        h.keys().collect()
    }

    /// Stepped by hand through `my_hash_insert`, with the hashes above: 0 and 2 odd, 1 even,
    /// 3 (0f0f0f0e) 2 mod 4.
    /// - 0: the first record, at 0; blength 1 → 2.
    /// - 0 then 1: the split walks bucket 0's chain: 0 has the bit 1 set, it moves to the new
    ///   slot 1 and frees slot 0; 1 goes to bucket 1 & 1 = 0, the free one: [1, 0].
    /// - 1 then 0: 1 has the bit clear and stays at 0; 0 goes to bucket 1, the new slot: [1, 0].
    /// - 0 then 2: 0 moves to slot 1, freeing 0; 2 belongs in bucket 1, so 0 moves on to the
    ///   free slot 0 (slot 1 linking to it, same bucket) and 2 takes slot 1: [0, 2].
    /// - 2 then 0: the same with the keys swapped: [2, 0].
    /// - 0, 1, then 2: from [1, 0] (blength 4, halfbuff 2) the split walks bucket 0: 1 has the
    ///   bit 2 clear and stays; 2's hash is 3 mod 4, a bucket not there yet with 3 records, so
    ///   it goes to bucket 1, where 0 sits: 0 moves to the new slot 2, slot 1 links to it, and
    ///   2 takes slot 1: [1, 2, 0].
    /// - then 3: the split walks bucket 1 (first_index = 3 - 2): 2 has the bit 2 set and moves
    ///   to the new slot 3, freeing 1; 0 has it clear and moves to the freed slot 1, freeing 2;
    ///   3 belongs in bucket 2, the free one: [1, 0, 3, 2].
    /// - 3, 2, then 1 (1 is 0 mod 4, 2 is 3 mod 4, 3 is 2 mod 4): 3 takes slot 0; 2, odd, goes
    ///   to the new slot 1 while 3, even, stays; the split of bucket 0 (halfbuff 2) moves 3
    ///   (bit 2 set) to the new slot 2, freeing 0, and 1 belongs in bucket 0: [1, 2, 3].
    #[test]
    fn orders_stepped_by_hand() {
        assert_eq!(order(&[0]), [0]);
        assert_eq!(order(&[0, 1]), [1, 0]);
        assert_eq!(order(&[1, 0]), [1, 0]);
        assert_eq!(order(&[0, 2]), [0, 2]);
        assert_eq!(order(&[2, 0]), [2, 0]);
        assert_eq!(order(&[0, 1, 2]), [1, 2, 0]);
        assert_eq!(order(&[0, 1, 2, 3]), [1, 0, 3, 2]);
        assert_eq!(order(&[3, 2, 1]), [1, 2, 3]);
    }

    /// mysys's invariant, checked apart from the lookup: the chains partition the array, each
    /// starting at the slot of its bucket and holding exactly that bucket's records.
    fn assert_chains(h: &HashOrder) {
        let n = h.len();
        let mut seen = vec![false; n];
        for start in 0..n {
            if bucket(h.links[start].hash, h.blength, n) != start {
                continue;
            }
            let mut at = start;
            loop {
                assert!(!seen[at], "slot {at} on two chains");
                seen[at] = true;
                assert_eq!(bucket(h.links[at].hash, h.blength, n), start, "slot {at} on the chain of bucket {start}");
                if h.links[at].next == NONE {
                    break;
                }
                at = h.links[at].next as usize;
            }
        }
        assert!(seen.iter().all(|&s| s), "slots on no chain: {h:?}");
        assert!(n < h.blength && h.blength <= 2 * n.max(1), "blength {} for {n} records", h.blength);
    }

    #[test]
    fn every_key_stays_on_its_buckets_chain() {
        for keys in [(0..300).collect::<Vec<u32>>(), (0..300).rev().collect(), (0..300).map(|i| i * 7919 + 13).collect(), vec![u32::MAX, 0, 1 << 31, 1 << 16, 42]] {
            let mut h = HashOrder::new();
            for (i, &k) in keys.iter().enumerate() {
                assert!(h.insert(k));
                assert_chains(&h);
                assert!(keys[..=i].iter().all(|&k| h.contains(k)), "after {} keys", i + 1);
                assert!(keys[i + 1..].iter().all(|&k| !h.contains(k)), "after {} keys", i + 1);
            }
            // Inserting a key again changes nothing.
            let before = h.clone();
            assert!(!h.insert(keys[0]));
            assert_eq!(h, before);
            let mut listed: Vec<u32> = h.keys().collect();
            listed.sort_unstable();
            let mut want = keys.clone();
            want.sort_unstable();
            assert_eq!(listed, want);
        }
    }
}
