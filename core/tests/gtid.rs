//! GTID sets: the algebra's laws on seeded random sets, and the text forms MySQL's and
//! MariaDB's documentation use.

use binraft_core::gtid::mysql::{BinaryFormat, Gtid, GtidSet, Tag, Uuid};
use binraft_core::gtid::{IntervalSet, MariaGtid, MariaGtidPos};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const U1: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
const U2: &str = "2174b383-5441-11e8-b90a-c80aa9429562";
const U3: &str = "24da167-0c0c-11e8-8442-00059a3c7b00";

fn random_set(rng: &mut ChaCha8Rng) -> GtidSet {
    let uuids = [Uuid([1; 16]), Uuid([2; 16]), Uuid([3; 16])];
    let tags = [Tag::untagged(), Tag::parse("blue").unwrap()];
    let mut s = GtidSet::new();
    for _ in 0..rng.gen_range(0..8) {
        let a = rng.gen_range(1..60u64);
        let b = a + rng.gen_range(0..10);
        let u = uuids[rng.gen_range(0..3)];
        let t = tags[rng.gen_range(0..2)].clone();
        s.add_range(u, t, a, b);
    }
    s
}

fn members(s: &GtidSet) -> std::collections::BTreeSet<(Uuid, String, u64)> {
    let mut out = std::collections::BTreeSet::new();
    for (u, t, iv) in s.entries() {
        for &(a, b) in iv.ranges() {
            for n in a..=b {
                out.insert((*u, t.as_str().to_string(), n));
            }
        }
    }
    out
}

#[test]
fn set_algebra_laws_hold_on_random_sets() {
    for seed in 0..2000u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (a, b, c) = (random_set(&mut rng), random_set(&mut rng), random_set(&mut rng));
        let ctx = format!("seed {seed}: a={a} b={b} c={c}");
        assert_eq!(a.union(&b), b.union(&a), "{ctx}");
        assert_eq!(a.union(&b).union(&c), a.union(&b.union(&c)), "{ctx}");
        assert_eq!(a.intersect(&b), b.intersect(&a), "{ctx}");
        assert_eq!(a.union(&a), a, "{ctx}");
        assert!(a.subtract(&b).is_subset(&a), "{ctx}");
        assert!(a.subtract(&b).intersect(&b).is_empty(), "{ctx}");
        assert_eq!(a.subtract(&b).union(&a.intersect(&b)), a, "{ctx}");
        assert!(a.is_subset(&a.union(&b)), "{ctx}");
        assert_eq!(a.is_subset(&b), a.union(&b) == b, "{ctx}");
        // Against the naive model: sets of members.
        let (ma, mb) = (members(&a), members(&b));
        assert_eq!(members(&a.union(&b)), ma.union(&mb).cloned().collect(), "{ctx}");
        assert_eq!(members(&a.subtract(&b)), ma.difference(&mb).cloned().collect(), "{ctx}");
        assert_eq!(members(&a.intersect(&b)), ma.intersection(&mb).cloned().collect(), "{ctx}");
        // Text and both binary forms round-trip.
        assert_eq!(GtidSet::parse(&a.to_string()).unwrap(), a, "{ctx}");
        let mut bin = Vec::new();
        a.encode(BinaryFormat::Tagged, &mut bin);
        assert_eq!(GtidSet::decode(&bin).unwrap(), (a.clone(), BinaryFormat::Tagged), "{ctx}");
        let untagged: GtidSet = {
            let mut s = GtidSet::new();
            for (u, t, iv) in a.entries().filter(|(_, t, _)| t.is_untagged()) {
                for &(x, y) in iv.ranges() {
                    s.add_range(*u, t.clone(), x, y);
                }
            }
            s
        };
        let mut bin = Vec::new();
        a.encode(BinaryFormat::Untagged, &mut bin);
        assert_eq!(GtidSet::decode(&bin).unwrap().0, untagged, "{ctx}");
    }
}

#[test]
fn interval_set_against_a_bitmap_model() {
    for seed in 0..3000u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut s = IntervalSet::new();
        let mut model = [false; 80];
        for _ in 0..rng.gen_range(0..12) {
            let a = rng.gen_range(1..70u64);
            let b = a + rng.gen_range(0..9);
            s.insert_range(a, b);
            (a..=b).for_each(|n| model[n as usize] = true);
        }
        for (n, &m) in model.iter().enumerate() {
            assert_eq!(s.contains(n as u64), m, "seed {seed}, n {n}");
        }
        let w = s.ranges();
        assert!(w.windows(2).all(|p| p[0].1 + 1 < p[1].0), "seed {seed}: not canonical {w:?}");
        let first_free = (1..).find(|&n| !model.get(n).copied().unwrap_or(false)).unwrap() as u64;
        assert_eq!(s.next_free(), first_free, "seed {seed}");
    }
}

#[test]
fn mysql_documented_text_forms() {
    // From MySQL's "GTID Format and Storage" and gtid_executed examples.
    let s = GtidSet::parse(&format!("{U1}:1-5")).unwrap();
    assert_eq!(s.to_string(), format!("{U1}:1-5"));
    let s = GtidSet::parse(&format!("{U1}:1-3:11:47-49")).unwrap();
    assert_eq!(s.to_string(), format!("{U1}:1-3:11:47-49"));
    // Several UUIDs, MySQL's newline after commas, upper case, adjacent ranges merged.
    let text = format!("{},\n{U1}:1-3:4-6:9", U2.to_uppercase() + ":1-4");
    let s = GtidSet::parse(&text).unwrap();
    assert_eq!(s.to_string(), format!("{U2}:1-4,{U1}:1-6:9"));
    // Tagged GTIDs (MySQL 8.4): untagged ranges first, tags in order.
    let s = GtidSet::parse(&format!("{U1}:Domain_2:1-3,{U1}:1-5:domain_1:7")).unwrap();
    assert_eq!(s.to_string(), format!("{U1}:1-5:domain_1:7:domain_2:1-3"));
    assert!(s.contains(&Gtid { uuid: Uuid::parse(U1).unwrap(), tag: Tag::parse("domain_2").unwrap(), gno: 2 }));
    assert_eq!(GtidSet::parse("").unwrap(), GtidSet::new());
    // Malformed forms are errors, not panics.
    for bad in [U3, U1, &format!("{U1}:0-3"), &format!("{U1}:5-3"), &format!("{U1}:1-x"), &format!("{U1}:9tag:1"), ",", &format!("{U1}:1,,")] {
        assert!(GtidSet::parse(bad).is_err(), "{bad:?} parsed");
    }
    // Subtraction as in GTID_SUBTRACT's documented example.
    let a = GtidSet::parse(&format!("{U1}:21-57")).unwrap();
    let b = GtidSet::parse(&format!("{U1}:21-22")).unwrap();
    assert_eq!(a.subtract(&b).to_string(), format!("{U1}:23-57"));
    let u = Uuid::parse(U1).unwrap();
    assert_eq!(a.next_gtid(u, Tag::untagged()).gno, 1);
    assert_eq!(GtidSet::parse(&format!("{U1}:1-57")).unwrap().next_gtid(u, Tag::untagged()).gno, 58);
}

#[test]
fn mariadb_positions() {
    // From MariaDB's GTID documentation: one GTID per domain.
    let p = MariaGtidPos::parse("0-1-100,1-2-50").unwrap();
    assert_eq!(p.to_string(), "0-1-100,1-2-50");
    assert!(p.contains(&MariaGtid::parse("0-5-99").unwrap()));
    assert!(!p.contains(&MariaGtid::parse("0-1-101").unwrap()));
    assert!(!p.contains(&MariaGtid::parse("2-1-1").unwrap()));
    assert!(MariaGtidPos::parse("0-1-1,0-2-2").is_err());
    assert!(MariaGtidPos::parse("0-1").is_err());
    assert!(MariaGtidPos::parse("a-1-1").is_err());
    assert_eq!(MariaGtidPos::parse("").unwrap(), MariaGtidPos::new());
    let q = MariaGtidPos::parse("0-3-120,2-1-7").unwrap();
    assert_eq!(p.union(&q).to_string(), "0-3-120,1-2-50,2-1-7");
    assert!(!p.is_behind_or_equal(&q));
    assert!(MariaGtidPos::parse("0-1-10").unwrap().is_behind_or_equal(&p));
    assert_eq!(p.next_gtid(0, 1).to_string(), "0-1-101");
    assert_eq!(p.next_gtid(7, 1).to_string(), "7-1-1");
}

#[test]
fn server_uuid_of_a_server_id_is_stable_and_parses_back() {
    let u = Uuid::of_server_id(100);
    assert_eq!(u.to_string(), "00000064-0000-4000-8000-000000000064");
    assert_eq!(Uuid::parse(&u.to_string()), Some(u));
    assert_ne!(Uuid::of_server_id(101), u);
}
