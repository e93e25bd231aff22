//! Sets of transaction numbers as sorted, disjoint, non-adjacent closed ranges: the part of a
//! MySQL GTID set under one UUID (and tag).

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

    /// Adds `[start, end]`, merging with neighbours.
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
        self.ranges.splice(lo..hi, [(s, e)]);
    }

    pub fn insert(&mut self, n: u64) {
        self.insert_range(n, n);
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = self.clone();
        for &(a, b) in &other.ranges {
            out.insert_range(a, b);
        }
        out
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
