//! Sorted sets beyond the corpus: ZRANDMEMBER's random replies checked by their properties,
//! ZSCAN's guarantee on a growing skiplist, and large sets (skiplist encoding, many ties)
//! compared with redis-server query by query.

mod common;

use std::collections::{HashMap, HashSet};

use common::{Raw, Reply, Server};

fn members(r: &Reply) -> Vec<Vec<u8>> {
    r.items()
        .expect("array reply")
        .iter()
        .map(|m| m.bytes().expect("bulk member").to_vec())
        .collect()
}

/// Fills `key` with `n` members m0..m{n-1}, member i scored i.
fn fill(raw: &mut Raw, key: &str, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
        let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), key.as_bytes().to_vec()];
        for i in chunk {
            args.push(i.to_string().into_bytes());
            args.push(format!("m{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        assert!(matches!(raw.cmd(&refs), Reply::Int(_)));
    }
}

fn check_randmember(raw: &mut Raw, key: &str, size: usize) {
    let valid = |m: &[u8]| {
        let s = std::str::from_utf8(m).unwrap();
        s.strip_prefix('m')
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| n < size)
    };
    let one = raw.cmd_str(&["ZRANDMEMBER", key]);
    assert!(valid(one.bytes().unwrap()));
    // Distinct picks, through both strategies (most of the set, and a small part of it).
    for count in [1, 3, size / 2, size - 1] {
        let got = members(&raw.cmd_str(&["ZRANDMEMBER", key, &count.to_string()]));
        assert_eq!(got.len(), count);
        assert!(got.iter().all(|m| valid(m)));
        let distinct: HashSet<_> = got.iter().collect();
        assert_eq!(distinct.len(), count, "distinct members for count {count}");
    }
    // WITHSCORES pairs each member with its score.
    let pairs = raw.cmd_str(&["ZRANDMEMBER", key, "-20", "WITHSCORES"]);
    let flat = pairs.items().unwrap();
    assert_eq!(flat.len(), 40);
    for p in flat.chunks(2) {
        let m = std::str::from_utf8(p[0].bytes().unwrap()).unwrap();
        assert_eq!(&m.as_bytes()[1..], p[1].bytes().unwrap());
    }
    // Repeated picks: the exact count, repeats allowed, roughly uniform.
    let n = 20_000;
    let got = members(&raw.cmd_str(&["ZRANDMEMBER", key, &format!("-{n}")]));
    assert_eq!(got.len(), n);
    let mut freq: HashMap<Vec<u8>, usize> = HashMap::new();
    for m in got {
        assert!(valid(&m));
        *freq.entry(m).or_default() += 1;
    }
    assert_eq!(freq.len(), size, "every member shows up");
    let expected = n / size;
    for (m, c) in freq {
        assert!(
            c > expected / 2 && c < expected * 2,
            "member {} drawn {c} times, expected about {expected}",
            String::from_utf8_lossy(&m)
        );
    }
}

#[test]
fn zrandmember_replies_have_the_right_shape_and_spread() {
    let server = Server::ferrodis(&[]);
    let mut raw = server.raw();
    fill(&mut raw, "small", 20);
    assert_eq!(
        raw.cmd_str(&["OBJECT", "ENCODING", "small"]),
        Reply::bulk("listpack")
    );
    check_randmember(&mut raw, "small", 20);
    fill(&mut raw, "big", 300);
    assert_eq!(
        raw.cmd_str(&["OBJECT", "ENCODING", "big"]),
        Reply::bulk("skiplist")
    );
    check_randmember(&mut raw, "big", 300);
    raw.cmd_str(&["HELLO", "3"]);
    let r = raw.cmd_str(&["ZRANDMEMBER", "big", "-3", "WITHSCORES"]);
    let pairs = r.items().unwrap();
    assert_eq!(pairs.len(), 3);
    assert!(
        pairs
            .iter()
            .all(|p| matches!(p.items(), Some([Reply::Bulk(_), Reply::Double(_)])))
    );
}

#[test]
fn zscan_returns_every_member_once_while_the_skiplist_grows() {
    let server = Server::ferrodis(&["--zset-max-listpack-entries", "0"]);
    let mut raw = server.raw();
    fill(&mut raw, "z", 1000);
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut cursor = b"0".to_vec();
    let mut extra = 1000;
    loop {
        let r = raw.cmd(&[b"ZSCAN", b"z", &cursor, b"COUNT", b"25"]);
        let parts = r.items().unwrap();
        cursor = parts[0].bytes().unwrap().to_vec();
        for pair in parts[1].items().unwrap().chunks(2) {
            *seen.entry(pair[0].bytes().unwrap().to_vec()).or_default() += 1;
        }
        // Grow the set between calls.
        let m = format!("m{extra}");
        raw.cmd_str(&["ZADD", "z", &extra.to_string(), &m]);
        extra += 1;
        if cursor == b"0" {
            break;
        }
    }
    for i in 0..1000 {
        assert_eq!(seen.get(format!("m{i}").as_bytes()), Some(&1), "m{i}");
    }
}

/// A tiny deterministic generator (the test must not depend on a crate's RNG stream).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

#[test]
fn large_sets_answer_like_redis() {
    let reference = Server::redis(&[]);
    let subject = Server::subject(&[]);
    let mut a = reference.raw();
    let mut b = subject.raw();
    let mut rng = Lcg(7);
    let both = |args: Vec<String>, a: &mut Raw, b: &mut Raw| {
        let x = a.cmd_str(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let y = b.cmd_str(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(x, y, "{args:?}");
    };
    // Scores with many ties, members of varied lengths; one set of equal scores for BYLEX.
    for i in 0..3000 {
        let score = (rng.below(200) as f64 / 4.0 - 10.0).to_string();
        let member = format!("{:x}", rng.below(1 << 20)).repeat(1 + (i % 3));
        both(
            vec!["ZADD".into(), "big".into(), score, member.clone()],
            &mut a,
            &mut b,
        );
        both(
            vec!["ZADD".into(), "lex".into(), "0".into(), member],
            &mut a,
            &mut b,
        );
    }
    both(
        vec!["OBJECT".into(), "ENCODING".into(), "big".into()],
        &mut a,
        &mut b,
    );
    for _ in 0..400 {
        let lo = (rng.below(220) as f64 / 4.0 - 15.0).to_string();
        let hi = (rng.below(220) as f64 / 4.0 - 15.0).to_string();
        let lo = if rng.below(3) == 0 {
            format!("({lo}")
        } else {
            lo
        };
        let (r1, r2) = (rng.below(4000) as i64 - 2000, rng.below(4000) as i64 - 2000);
        let lex = |rng: &mut Lcg| match rng.below(6) {
            0 => "-".to_string(),
            1 => "+".to_string(),
            n => format!("{}{:x}", if n < 4 { "[" } else { "(" }, rng.below(1 << 20)),
        };
        let (l1, l2) = (lex(&mut rng), lex(&mut rng));
        let (off, lim) = (rng.below(50).to_string(), rng.below(30).to_string());
        let s = |x: &str| x.to_string();
        let cmds: Vec<Vec<String>> = vec![
            vec![
                s("ZRANGE"),
                s("big"),
                r1.to_string(),
                r2.to_string(),
                s("WITHSCORES"),
            ],
            vec![s("ZREVRANGE"), s("big"), r1.to_string(), r2.to_string()],
            vec![
                s("ZRANGEBYSCORE"),
                s("big"),
                lo.clone(),
                hi.clone(),
                s("WITHSCORES"),
            ],
            vec![
                s("ZREVRANGEBYSCORE"),
                s("big"),
                hi.clone(),
                lo.clone(),
                s("LIMIT"),
                off.clone(),
                lim.clone(),
            ],
            vec![s("ZCOUNT"), s("big"), lo.clone(), hi.clone()],
            vec![
                s("ZRANGEBYLEX"),
                s("lex"),
                l1.clone(),
                l2.clone(),
                s("LIMIT"),
                off.clone(),
                lim.clone(),
            ],
            vec![s("ZREVRANGEBYLEX"), s("lex"), l2.clone(), l1.clone()],
            vec![s("ZLEXCOUNT"), s("lex"), l1.clone(), l2.clone()],
            vec![s("ZRANK"), s("big"), format!("{:x}", rng.below(1 << 20))],
        ];
        for c in cmds {
            both(c, &mut a, &mut b);
        }
        // Mutations keep both sides in step.
        match rng.below(5) {
            0 => both(
                vec![s("ZREMRANGEBYSCORE"), s("big"), lo.clone(), hi.clone()],
                &mut a,
                &mut b,
            ),
            1 => both(
                vec![
                    s("ZREMRANGEBYRANK"),
                    s("big"),
                    r1.to_string(),
                    (r1 + 3).to_string(),
                ],
                &mut a,
                &mut b,
            ),
            2 => both(vec![s("ZREMRANGEBYLEX"), s("lex"), l1, l2], &mut a, &mut b),
            3 => both(vec![s("ZPOPMIN"), s("big"), s("3")], &mut a, &mut b),
            _ => both(
                vec![s("ZINCRBY"), s("big"), s("1.25"), s("ffff")],
                &mut a,
                &mut b,
            ),
        }
    }
    both(
        vec![
            "ZUNIONSTORE".into(),
            "u".into(),
            "2".into(),
            "big".into(),
            "lex".into(),
            "WEIGHTS".into(),
            "2".into(),
            "0.5".into(),
        ],
        &mut a,
        &mut b,
    );
    both(
        vec![
            "ZRANGE".into(),
            "u".into(),
            "0".into(),
            "-1".into(),
            "WITHSCORES".into(),
        ],
        &mut a,
        &mut b,
    );
    both(
        vec![
            "ZINTER".into(),
            "2".into(),
            "big".into(),
            "lex".into(),
            "WITHSCORES".into(),
        ],
        &mut a,
        &mut b,
    );
    both(
        vec!["ZDIFF".into(), "2".into(), "lex".into(), "big".into()],
        &mut a,
        &mut b,
    );
    both(vec!["DEBUG".into(), "DIGEST".into()], &mut a, &mut b);
}
