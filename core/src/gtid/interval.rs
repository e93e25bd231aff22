//! Sets of transaction numbers as sorted, disjoint, non-adjacent closed ranges: the part of a
//! MySQL GTID set under one UUID (and tag).

/// Elements compared or moved while building sets: what the complexity tests bound (they never
/// time anything). Counted in tests only.
#[cfg(test)]
pub(crate) mod work {
    use std::cell::Cell;
    thread_local!(static N: Cell<u64> = const { Cell::new(0) });
    pub fn add(n: u64) {
        N.with(|c| c.set(c.get().saturating_add(n)));
    }
    pub fn take() -> u64 {
        N.with(|c| c.replace(0))
    }
}
#[cfg(not(test))]
pub(crate) mod work {
    #[inline(always)]
    pub fn add(_: u64) {}
}

/// Closed ranges `[start, end]`, sorted, never overlapping or touching.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IntervalSet {
    ranges: Vec<(u64, u64)>,
}

impl IntervalSet {
    pub fn new() -> Self {
        IntervalSet::default()
    }

    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.ranges
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many numbers the set holds.
    pub fn count(&self) -> u128 {
        self.ranges.iter().map(|&(a, b)| u128::from(b - a) + 1).sum()
    }

    pub fn contains(&self, n: u64) -> bool {
        let i = self.ranges.partition_point(|&(_, end)| end < n);
        self.ranges.get(i).is_some_and(|&(start, _)| start <= n)
    }

    /// The set of `ranges`, in any order, overlapping or not (empty ones, start after end, are
    /// left out): sorted once and merged in one pass, n log n, where inserting them one by one
    /// may shift every range already there for each.
    pub fn from_ranges(mut ranges: Vec<(u64, u64)>) -> IntervalSet {
        ranges.retain(|&(a, b)| a <= b);
        let mut compared = 0u64;
        ranges.sort_unstable_by(|x, y| {
            compared += 1;
            x.cmp(y)
        });
        work::add(compared);
        IntervalSet::coalesce(ranges)
    }

    /// Sorted ranges (by start) to a set: touching and overlapping ones merged.
    fn coalesce(sorted: Vec<(u64, u64)>) -> IntervalSet {
        work::add(sorted.len() as u64);
        let mut ranges: Vec<(u64, u64)> = Vec::with_capacity(sorted.len());
        for (a, b) in sorted {
            match ranges.last_mut() {
                Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
                _ => ranges.push((a, b)),
            }
        }
        IntervalSet { ranges }
    }

    /// Adds `[start, end]`, merging with neighbours. Each call may shift every range after it:
    /// to build a set from many ranges, use [`IntervalSet::from_ranges`].
    pub fn insert_range(&mut self, start: u64, end: u64) {
        if start > end {
            return;
        }
        // The first range that could touch: its end + 1 >= start.
        let lo = self.ranges.partition_point(|&(_, e)| e.saturating_add(1) < start);
        let mut hi = lo;
        let (mut s, mut e) = (start, end);
        while hi < self.ranges.len() && self.ranges[hi].0 <= end.saturating_add(1) {
            s = s.min(self.ranges[hi].0);
            e = e.max(self.ranges[hi].1);
            hi += 1;
        }
        work::add((self.ranges.len() - hi) as u64 + 1);
        self.ranges.splice(lo..hi, [(s, e)]);
    }

    pub fn insert(&mut self, n: u64) {
        self.insert_range(n, n);
    }

    /// Both sides are sorted: merged in one pass.
    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let (a, b) = (&self.ranges, &other.ranges);
        let mut merged = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            if j == b.len() || (i < a.len() && a[i].0 <= b[j].0) {
                merged.push(a[i]);
                i += 1;
            } else {
                merged.push(b[j]);
                j += 1;
            }
        }
        IntervalSet::coalesce(merged)
    }

    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::new();
        let mut j = 0;
        for &(mut a, b) in &self.ranges {
            while j < other.ranges.len() && other.ranges[j].1 < a {
                j += 1;
            }
            let mut k = j;
            let mut done = false;
            while k < other.ranges.len() && other.ranges[k].0 <= b {
                let (oa, ob) = other.ranges[k];
                if oa > a {
                    out.push((a, oa - 1));
                }
                if ob >= b {
                    done = true;
                    break;
                }
                a = ob + 1;
                k += 1;
            }
            if !done {
                out.push((a, b));
            }
        }
        IntervalSet { ranges: out }
    }

    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.ranges.len() && j < other.ranges.len() {
            let (a1, b1) = self.ranges[i];
            let (a2, b2) = other.ranges[j];
            let (a, b) = (a1.max(a2), b1.min(b2));
            if a <= b {
                out.push((a, b));
            }
            if b1 < b2 {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet { ranges: out }
    }

    pub fn is_subset(&self, other: &IntervalSet) -> bool {
        self.subtract(other).is_empty()
    }

    /// The smallest number of at least 1 that is not in the set: the next GTID to assign.
    pub fn next_free(&self) -> u64 {
        match self.ranges.first() {
            Some(&(1, end)) => end.saturating_add(1),
            _ => 1,
        }
    }

    /// The largest number in the set.
    pub fn max(&self) -> Option<u64> {
        self.ranges.last().map(|&(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges from a fixed linear congruential sequence: small numbers, so that many touch or
    /// overlap, some empty (start after end).
    fn ranges(seed: u64, n: usize) -> Vec<(u64, u64)> {
        let mut x = seed;
        let mut next = move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % 200
        };
        (0..n).map(|_| (next(), next() % 8)).map(|(a, len)| if len == 7 { (a + 1, a) } else { (a, a + len) }).collect()
    }

    fn inserted(r: &[(u64, u64)]) -> IntervalSet {
        let mut s = IntervalSet::new();
        for &(a, b) in r {
            s.insert_range(a, b);
        }
        s
    }

    #[test]
    fn from_ranges_and_union_agree_with_inserting_one_by_one() {
        for seed in 0..200 {
            let (r1, r2) = (ranges(seed, seed as usize % 40), ranges(seed + 1000, 30));
            assert_eq!(IntervalSet::from_ranges(r1.clone()), inserted(&r1), "seed {seed}");
            let both: Vec<_> = r1.iter().chain(&r2).copied().collect();
            assert_eq!(inserted(&r1).union(&inserted(&r2)), inserted(&both), "seed {seed}");
        }
        assert_eq!(IntervalSet::from_ranges(vec![(5, 9), (u64::MAX - 1, u64::MAX), (10, 10)]).ranges(), [(5, 10), (u64::MAX - 1, u64::MAX)]);
    }
}
