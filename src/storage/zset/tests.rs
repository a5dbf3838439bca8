use super::*;

fn limits(entries: usize, value: usize) -> EncodingLimits {
    EncodingLimits {
        zset_max_listpack_entries: entries,
        zset_max_listpack_value: value,
        ..Default::default()
    }
}

fn plain() -> AddFlags {
    AddFlags::default()
}

fn items(z: &ZSet) -> Vec<(Vec<u8>, f64)> {
    let mut v = Vec::new();
    z.for_each(|m, s| v.push((m.to_vec(), s)));
    v
}

fn visited(z: &ZSet, start: usize, count: usize, rev: bool) -> Vec<(Vec<u8>, f64)> {
    let mut v = Vec::new();
    z.visit(start, count, rev, |m, s| v.push((m.to_vec(), s)));
    v
}

/// Checks the skiplist's structure: spans against real ranks, back links, tail, the member
/// table, and levels.
fn check_skiplist(sl: &SkipList) {
    let mut order = Vec::new();
    let mut x = sl.head[0].next;
    let mut prev = NIL;
    while x != NIL {
        assert_eq!(sl.node(x).prev, prev, "back link");
        order.push(x);
        prev = x;
        x = sl.link(x, 0).next;
    }
    assert_eq!(sl.tail, prev);
    assert_eq!(order.len(), sl.len);
    assert_eq!(sl.index.len(), sl.len);
    let rank_of = |x: u32| order.iter().position(|&o| o == x).unwrap() + 1;
    for w in order.windows(2) {
        let (a, b) = (sl.node(w[0]), sl.node(w[1]));
        assert!(before(a.score, &a.member, b.score, &b.member), "order");
    }
    for level in 0..sl.level {
        let mut x = HEAD;
        let mut rank = 0;
        loop {
            let l = sl.link(x, level);
            if l.next == NIL {
                assert_eq!(l.span as usize, sl.len - rank, "span to the end");
                break;
            }
            let r = rank_of(l.next);
            assert_eq!(l.span as usize, r - rank, "span at level {level}");
            assert!(sl.node(l.next).height as usize > level);
            rank = r;
            x = l.next;
        }
    }
    assert!(sl.level == 1 || sl.head[sl.level - 1].next != NIL);
    for &x in &order {
        assert_eq!(sl.find(&sl.node(x).member), Some(x));
    }
}

fn check(z: &ZSet) {
    if let Form::Big(sl) = z.0.form() {
        check_skiplist(sl);
    }
}

/// The reference: elements in order, and Redis's range walk done linearly.
#[derive(Default)]
struct Model(Vec<(Vec<u8>, f64)>);

impl Model {
    fn pos(&self, m: &[u8]) -> Option<usize> {
        self.0.iter().position(|(x, _)| x == m)
    }

    fn put(&mut self, m: &[u8], s: f64) {
        if let Some(i) = self.pos(m) {
            self.0.remove(i);
        }
        let at = self
            .0
            .iter()
            .position(|(x, y)| before(s, m, *y, x))
            .unwrap_or(self.0.len());
        self.0.insert(at, (m.to_vec(), s));
    }

    fn range(&self, r: &impl ZRange, rev: bool, offset: i64, limit: i64) -> Vec<(Vec<u8>, f64)> {
        let v = &self.0;
        if r.is_empty() || v.is_empty() || offset < 0 {
            return vec![];
        }
        let (first, last) = (&v[0], &v[v.len() - 1]);
        if !r.gte_min(last.1, &last.0) || !r.lte_max(first.1, &first.0) {
            return vec![];
        }
        let limit = if limit < 0 {
            usize::MAX
        } else {
            limit as usize
        };
        let offset = offset as usize;
        if rev {
            let Some(i) = v.iter().rposition(|(m, s)| r.lte_max(*s, m)) else {
                return vec![];
            };
            if !r.gte_min(v[i].1, &v[i].0) || offset > i {
                return vec![];
            }
            v[..=i - offset]
                .iter()
                .rev()
                .take(limit)
                .take_while(|(m, s)| r.gte_min(*s, m))
                .cloned()
                .collect()
        } else {
            let Some(i) = v.iter().position(|(m, s)| r.gte_min(*s, m)) else {
                return vec![];
            };
            if !r.lte_max(v[i].1, &v[i].0) {
                return vec![];
            }
            v.iter()
                .skip(i + offset)
                .take(limit)
                .take_while(|(m, s)| r.lte_max(*s, m))
                .cloned()
                .collect()
        }
    }
}

fn ranged(z: &ZSet, r: &impl ZRange, rev: bool, offset: i64, limit: i64) -> Vec<(Vec<u8>, f64)> {
    match z.resolve_range(r, rev, offset, limit) {
        Some((start, count)) => visited(z, start, count, rev),
        None => vec![],
    }
}

#[test]
fn add_update_remove_in_both_encodings() {
    for lim in [limits(128, 64), limits(0, 64)] {
        let mut z = ZSet::for_first_member(1, &lim);
        assert_eq!(z.add(b"b", 2.0, plain(), &lim), AddOutcome::Added(2.0));
        assert_eq!(z.add(b"a", 2.0, plain(), &lim), AddOutcome::Added(2.0));
        assert_eq!(z.add(b"c", 1.0, plain(), &lim), AddOutcome::Added(1.0));
        assert_eq!(
            items(&z),
            vec![
                (b"c".to_vec(), 1.0),
                (b"a".to_vec(), 2.0),
                (b"b".to_vec(), 2.0)
            ]
        );
        assert_eq!(z.add(b"c", 1.0, plain(), &lim), AddOutcome::Unchanged(1.0));
        assert_eq!(z.add(b"c", 5.0, plain(), &lim), AddOutcome::Updated(5.0));
        assert_eq!(z.rank(b"c"), Some(2));
        let nx = AddFlags {
            nx: true,
            ..plain()
        };
        assert_eq!(z.add(b"c", 9.0, nx, &lim), AddOutcome::Skipped);
        let xx = AddFlags {
            xx: true,
            ..plain()
        };
        assert_eq!(z.add(b"zz", 9.0, xx, &lim), AddOutcome::Skipped);
        let gt = AddFlags {
            gt: true,
            ..plain()
        };
        assert_eq!(z.add(b"c", 4.0, gt, &lim), AddOutcome::Skipped);
        assert_eq!(z.add(b"c", 6.0, gt, &lim), AddOutcome::Updated(6.0));
        let lt_incr = AddFlags {
            lt: true,
            incr: true,
            ..plain()
        };
        assert_eq!(z.add(b"c", 1.0, lt_incr, &lim), AddOutcome::Skipped);
        assert_eq!(z.add(b"c", -1.5, lt_incr, &lim), AddOutcome::Updated(4.5));
        let incr = AddFlags {
            incr: true,
            ..plain()
        };
        z.add(b"inf", f64::INFINITY, plain(), &lim);
        assert_eq!(
            z.add(b"inf", f64::NEG_INFINITY, incr, &lim),
            AddOutcome::NotANumber
        );
        assert_eq!(z.score(b"c"), Some(4.5));
        assert_eq!(z.score(b"nope"), None);
        assert!(z.remove(b"a"));
        assert!(!z.remove(b"a"));
        assert_eq!(z.len(), 3);
        check(&z);
    }
}

#[test]
fn encoding_follows_redis_thresholds() {
    let lim = limits(3, 4);
    let mut z = ZSet::for_first_member(4, &lim);
    assert_eq!(z.encoding(), "listpack");
    for m in [&b"a"[..], b"b", b"c"] {
        z.add(m, 1.0, plain(), &lim);
    }
    assert_eq!(z.encoding(), "listpack");
    z.add(b"d", 1.0, plain(), &lim);
    assert_eq!(z.encoding(), "skiplist");
    z.remove(b"d");
    z.remove(b"c");
    assert_eq!(z.encoding(), "skiplist", "never converted back");
    let mut z = ZSet::for_first_member(1, &lim);
    z.add(b"a", 1.0, plain(), &lim);
    z.add(b"toolong", 1.0, plain(), &lim);
    assert_eq!(z.encoding(), "skiplist");
    check(&z);
    assert_eq!(ZSet::for_first_member(5, &lim).encoding(), "skiplist");
    assert_eq!(
        ZSet::for_first_member(1, &limits(0, 64)).encoding(),
        "skiplist"
    );
    let sorted = |n: usize, len: usize| -> Vec<(Box<[u8]>, f64)> {
        (0..n)
            .map(|i| (vec![b'a' + i as u8; len].into_boxed_slice(), i as f64))
            .collect()
    };
    assert_eq!(ZSet::from_sorted(sorted(3, 4), &lim).encoding(), "listpack");
    assert_eq!(ZSet::from_sorted(sorted(4, 1), &lim).encoding(), "skiplist");
    assert_eq!(ZSet::from_sorted(sorted(2, 5), &lim).encoding(), "skiplist");
    let z = ZSet::from_sorted(sorted(40, 8), &lim);
    check(&z);
    assert_eq!(z.len(), 40);
}

#[test]
fn listpack_drops_the_sign_of_zero_and_skiplist_keeps_it() {
    let lim = limits(128, 64);
    let mut z = ZSet::for_first_member(1, &lim);
    z.add(b"m", -0.0, plain(), &lim);
    assert!(z.score(b"m").unwrap().is_sign_positive());
    let lim = limits(0, 64);
    let mut z = ZSet::for_first_member(1, &lim);
    z.add(b"m", -0.0, plain(), &lim);
    assert!(z.score(b"m").unwrap().is_sign_negative());
}

#[test]
fn ranges_by_rank_score_and_lex() {
    for lim in [limits(128, 64), limits(0, 64)] {
        let mut z = ZSet::for_first_member(1, &lim);
        for (i, m) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            z.add(m.as_bytes(), (i + 1) as f64, plain(), &lim);
        }
        let names = |v: Vec<(Vec<u8>, f64)>| -> Vec<String> {
            v.into_iter()
                .map(|(m, _)| String::from_utf8(m).unwrap())
                .collect()
        };
        assert_eq!(names(visited(&z, 1, 3, false)), ["b", "c", "d"]);
        assert_eq!(names(visited(&z, 3, 3, true)), ["d", "c", "b"]);
        let r = ScoreRange::parse(b"(1", b"4").unwrap();
        assert_eq!(names(ranged(&z, &r, false, 0, -1)), ["b", "c", "d"]);
        assert_eq!(names(ranged(&z, &r, true, 1, 1)), ["c"]);
        assert_eq!(names(ranged(&z, &r, false, 5, -1)), Vec::<String>::new());
        assert_eq!(ranged(&z, &r, false, -1, 2), vec![]);
        let r = ScoreRange::parse(b"-inf", b"+inf").unwrap();
        assert_eq!(z.resolve_range(&r, false, 0, -1), Some((0, 5)));
        let r = ScoreRange::parse(b"(3", b"(3").unwrap();
        assert!(r.is_empty());
        let l = LexRange::parse(b"[b", b"(d").unwrap();
        assert_eq!(names(ranged(&z, &l, false, 0, -1)), ["b", "c"]);
        let l = LexRange::parse(b"-", b"+").unwrap();
        assert_eq!(names(ranged(&z, &l, true, 0, 2)), ["e", "d"]);
        z.remove_ranks(1, 2);
        assert_eq!(names(items(&z)), ["a", "d", "e"]);
        check(&z);
    }
}

#[test]
fn parse_bounds() {
    assert_eq!(
        ScoreRange::parse(b"(1.5", b"inf"),
        Some(ScoreRange {
            min: 1.5,
            max: f64::INFINITY,
            min_ex: true,
            max_ex: false
        })
    );
    assert_eq!(ScoreRange::parse(b"nan", b"1"), None);
    assert_eq!(ScoreRange::parse(b"((1", b"1"), None);
    assert!(ScoreRange::parse(b"(", b"").is_some());
    assert_eq!(LexBound::parse(b"+"), Some(LexBound::Max));
    assert_eq!(LexBound::parse(b"+a"), None);
    assert_eq!(LexBound::parse(b"a"), None);
    assert_eq!(LexBound::parse(b""), None);
    assert_eq!(LexBound::parse(b"("), Some(LexBound::Excl(b"")));
    let empty = |a: &[u8], b: &[u8]| LexRange::parse(a, b).unwrap().is_empty();
    assert!(empty(b"+", b"-"));
    assert!(empty(b"-", b"-"));
    assert!(empty(b"+", b"+"));
    assert!(!empty(b"-", b"+"));
    assert!(empty(b"[b", b"[a"));
    assert!(!empty(b"[a", b"[a"));
    assert!(empty(b"[a", b"(a"));
    assert!(empty(b"[a", b"-"));
    assert!(!empty(b"[a", b"+"));
}

/// A random member from a small alphabet, so that updates and collisions are frequent.
fn member(rng: &mut fastrand::Rng) -> Vec<u8> {
    let len = rng.usize(0..4);
    (0..len).map(|_| b'a' + rng.u8(0..4)).collect()
}

fn random_ops(seed: u64, lim: EncodingLimits, lex: bool) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut z = ZSet::for_first_member(1, &lim);
    let mut model = Model::default();
    for step in 0..3000 {
        let m = member(&mut rng);
        let score = if lex {
            0.0
        } else {
            rng.i32(-5..5) as f64 / 2.0
        };
        match rng.u32(0..10) {
            0..=3 => {
                let flags = AddFlags {
                    xx: rng.u8(0..5) == 0,
                    gt: rng.u8(0..5) == 0,
                    incr: !lex && rng.u8(0..4) == 0,
                    ..plain()
                };
                let cur = model.pos(&m).map(|i| model.0[i].1);
                let out = z.add(&m, score, flags, &lim);
                let want = match cur {
                    None if flags.xx => AddOutcome::Skipped,
                    None => AddOutcome::Added(score),
                    Some(c) => {
                        let s = if flags.incr { c + score } else { score };
                        if flags.gt && s <= c {
                            AddOutcome::Skipped
                        } else if s == c {
                            AddOutcome::Unchanged(s)
                        } else {
                            AddOutcome::Updated(s)
                        }
                    }
                };
                assert_eq!(out, want, "step {step}");
                if let AddOutcome::Added(s) | AddOutcome::Updated(s) = out {
                    model.put(&m, s);
                }
            }
            4 => {
                let had = model.pos(&m).map(|i| model.0.remove(i)).is_some();
                assert_eq!(z.remove(&m), had);
            }
            5 if !model.0.is_empty() => {
                let start = rng.usize(0..model.0.len());
                let count = rng.usize(0..=(model.0.len() - start).min(3));
                z.remove_ranks(start, count);
                model.0.drain(start..start + count);
            }
            6 => {
                let (offset, limit) = (rng.i64(-1..3), rng.i64(-1..4));
                let rev = rng.bool();
                if lex {
                    let mut bound = || match rng.u8(0..6) {
                        0 => b"-".to_vec(),
                        1 => b"+".to_vec(),
                        2 => [b"(".to_vec(), member(&mut rng)].concat(),
                        _ => [b"[".to_vec(), member(&mut rng)].concat(),
                    };
                    let (a, b) = (bound(), bound());
                    let r = LexRange::parse(&a, &b).unwrap();
                    assert_eq!(
                        ranged(&z, &r, rev, offset, limit),
                        model.range(&r, rev, offset, limit),
                        "step {step}: lex {:?} {:?}",
                        String::from_utf8_lossy(&a),
                        String::from_utf8_lossy(&b)
                    );
                } else {
                    let r = ScoreRange {
                        min: rng.i32(-6..6) as f64 / 2.0,
                        max: rng.i32(-6..6) as f64 / 2.0,
                        min_ex: rng.bool(),
                        max_ex: rng.bool(),
                    };
                    assert_eq!(
                        ranged(&z, &r, rev, offset, limit),
                        model.range(&r, rev, offset, limit),
                        "step {step}: {r:?}"
                    );
                }
            }
            7 => {
                assert_eq!(z.rank(&m), model.pos(&m));
                assert_eq!(z.score(&m), model.pos(&m).map(|i| model.0[i].1));
            }
            8 if !model.0.is_empty() => {
                let n = model.0.len();
                let start = rng.usize(0..n);
                let rev = rng.bool();
                let room = if rev { start + 1 } else { n - start };
                let count = rng.usize(0..=room);
                let want: Vec<_> = if rev {
                    model.0[start + 1 - count..=start]
                        .iter()
                        .rev()
                        .cloned()
                        .collect()
                } else {
                    model.0[start..start + count].to_vec()
                };
                assert_eq!(visited(&z, start, count, rev), want);
                let ranks: Vec<usize> = (0..3).map(|_| rng.usize(0..n)).collect();
                let mut got = Vec::new();
                z.visit_ranks(&ranks, |m, _| got.push(m.to_vec()));
                let want: Vec<_> = ranks.iter().map(|&r| model.0[r].0.clone()).collect();
                assert_eq!(got, want);
            }
            _ => {
                let mut seen = Vec::new();
                let mut cursor = 0;
                loop {
                    cursor = z.scan(cursor, 2, |m, s| seen.push((m.to_vec(), s)));
                    if cursor == 0 {
                        break;
                    }
                }
                seen.sort_by(|a, b| a.0.cmp(&b.0));
                let mut want = model.0.clone();
                want.sort_by(|a, b| a.0.cmp(&b.0));
                assert_eq!(seen, want);
            }
        }
        assert_eq!(items(&z), model.0, "step {step}");
        if step % 50 == 0 {
            check(&z);
        }
    }
    check(&z);
}

#[test]
fn random_operations_match_a_simple_model() {
    for seed in 0..4 {
        random_ops(seed, limits(128, 64), false);
        random_ops(seed, limits(0, 64), false);
        random_ops(seed, limits(8, 2), false);
    }
}

#[test]
fn random_lex_ranges_match_a_simple_model() {
    for seed in 10..14 {
        random_ops(seed, limits(128, 64), true);
        random_ops(seed, limits(0, 64), true);
    }
}

#[test]
fn large_skiplist_ranks_and_compaction() {
    let lim = limits(0, 64);
    let mut z = ZSet::for_first_member(1, &lim);
    let n = 20_000;
    for i in 0..n {
        let m = format!("m{i:05}");
        z.add(m.as_bytes(), (i % 100) as f64, plain(), &lim);
    }
    check(&z);
    assert_eq!(z.rank(b"m00101"), Some(201));
    let r = ScoreRange::parse(b"10", b"(12").unwrap();
    assert_eq!(z.resolve_range(&r, false, 0, -1), Some((2000, 400)));
    for i in 0..n - 100 {
        z.remove(format!("m{i:05}").as_bytes());
    }
    let Form::Big(sl) = z.0.form() else {
        unreachable!()
    };
    assert!(
        sl.nodes.len() <= 4 * 100 + 64,
        "pools shrink after deletions"
    );
    check(&z);
    assert_eq!(z.len(), 100);
    let copy = z.clone();
    assert_eq!(copy, z);
    check(&copy);
}

#[test]
fn one_pointer_with_a_niche() {
    assert_eq!(std::mem::size_of::<ZSet>(), 8);
    assert_eq!(
        std::mem::size_of::<Option<ZSet>>(),
        std::mem::size_of::<ZSet>()
    );
}

#[test]
fn small_set_is_one_exact_allocation() {
    // Ten 17-byte members with integral scores below 2^23: 10 * (1 + 17 + 1 + 3) bytes of
    // entries and a 3-byte header (jemalloc's 224-byte class).
    let mut z = ZSet::for_first_member(17, &limits(128, 64));
    for m in 0..10 {
        let member = format!("member:{m:010}");
        z.add(
            member.as_bytes(),
            (1_000_000 - m) as f64,
            plain(),
            &limits(128, 64),
        );
    }
    assert_eq!(z.encoding(), "listpack");
    assert_eq!(z.heap_bytes(0), 223);
}
