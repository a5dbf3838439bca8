//! Streams against redis-server where the corpus cannot compare replies exactly: replies
//! holding times (idle times, delivery and seen times) compared with those masked and checked
//! for plausibility, automatic ids checked against the clock, and long seeded runs of XADD with
//! varied entries, trimming and deletion, whose node boundaries (and so `~` trimming and XINFO's
//! radix tree figures) must match Redis's exactly.

mod common;

use common::{Raw, Reply, Server};

fn args<'a>(a: &'a [&'a str]) -> Vec<&'a [u8]> {
    a.iter().map(|s| s.as_bytes()).collect()
}

/// Replaces times in a reply: integers that look like unix milliseconds, the value after an
/// "idle" or "seen-time" key, and the idle column of XPENDING's extended rows.
fn mask(r: &Reply, now_ms: i64) -> Reply {
    match r {
        Reply::Int(n) if (*n - now_ms).abs() < 60_000 => Reply::Int(-1),
        Reply::Array(Some(items)) => {
            let mut out = Vec::with_capacity(items.len());
            let mut after_time_key = false;
            for (i, item) in items.iter().enumerate() {
                let pending_row = items.len() == 4
                    && i == 2
                    && matches!(items[1], Reply::Bulk(Some(_)))
                    && matches!(items[0], Reply::Bulk(Some(_)));
                if after_time_key || pending_row {
                    // An idle time, or (XINFO FULL, TIME in the past) a unix time in ms.
                    let Reply::Int(n) = item else {
                        panic!("time expected, got {item:?}")
                    };
                    assert!(
                        (0..10_000).contains(n)
                            || (*n > 1_000_000_000_000 && *n <= now_ms + 60_000),
                        "implausible time {n}"
                    );
                    out.push(Reply::Int(-1));
                } else {
                    out.push(mask(item, now_ms));
                }
                after_time_key =
                    matches!(item, Reply::Bulk(Some(k)) if k == b"idle" || k == b"seen-time");
            }
            Reply::Array(Some(out))
        }
        other => other.clone(),
    }
}

fn now_ms(c: &mut Raw) -> i64 {
    let t = c.cmd(&args(&["TIME"]));
    let items = t.items().unwrap();
    let secs: i64 = String::from_utf8_lossy(items[0].bytes().unwrap())
        .parse()
        .unwrap();
    let micros: i64 = String::from_utf8_lossy(items[1].bytes().unwrap())
        .parse()
        .unwrap();
    secs * 1000 + micros / 1000
}

fn timed_scenario(s: &Server) -> Vec<Reply> {
    let mut c = s.raw();
    let now = now_ms(&mut c);
    let script: &[&[&str]] = &[
        &["XADD", "s", "1-0", "a", "1"],
        &["XADD", "s", "2-0", "b", "2"],
        &["XADD", "s", "3-0", "c", "3"],
        &["XGROUP", "CREATE", "s", "g", "0"],
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ],
        &["XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"],
        &["XPENDING", "s", "g", "-", "+", "10"],
        &["XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "alice"],
        &["XINFO", "CONSUMERS", "s", "g"],
        &["XINFO", "STREAM", "s", "FULL"],
        &[
            "XCLAIM", "s", "g", "carol", "0", "1-0", "IDLE", "5000", "JUSTID",
        ],
        &["XPENDING", "s", "g", "IDLE", "4000", "-", "+", "10"],
        &[
            "XCLAIM",
            "s",
            "g",
            "carol",
            "0",
            "2-0",
            "TIME",
            "1",
            "RETRYCOUNT",
            "9",
        ],
        &["XPENDING", "s", "g", "IDLE", "100000", "-", "+", "10"],
        &["XAUTOCLAIM", "s", "g", "dave", "3000", "0"],
        &["XINFO", "STREAM", "s", "FULL", "COUNT", "1"],
    ];
    let mut out = Vec::new();
    for cmd in script {
        let r = c.cmd(&args(cmd));
        out.push(mask(&r, now));
        // Idle times set through IDLE/TIME come back as set (give or take the test's pace).
        if cmd[0] == "XPENDING" && cmd[3] == "IDLE" {
            for row in r.items().unwrap() {
                let Reply::Int(idle) = row.items().unwrap()[2] else {
                    panic!("{row:?}")
                };
                let floor: i64 = cmd[4].parse().unwrap();
                assert!(idle >= floor, "{idle} < {floor}");
            }
        }
    }
    out
}

#[test]
fn replies_with_times_have_redis_shapes() {
    let want = timed_scenario(&Server::redis(&[]));
    let got = timed_scenario(&Server::subject(&[]));
    assert_eq!(got, want);
}

#[test]
fn automatic_ids_follow_the_clock_and_never_go_back() {
    let s = Server::subject(&[]);
    let mut c = s.raw();
    let before = now_ms(&mut c);
    let mut last = (0u64, 0u64);
    for _ in 0..200 {
        let id = c.cmd(&args(&["XADD", "s", "*", "f", "v"]));
        let text = String::from_utf8(id.bytes().unwrap().to_vec()).unwrap();
        let (ms, seq) = text.split_once('-').unwrap();
        let cur = (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap());
        assert!(cur > last, "{cur:?} after {last:?}");
        last = cur;
    }
    let after = now_ms(&mut c);
    assert!((before as u64..=after as u64).contains(&last.0));
    // A top id in the future: `*` keeps its milliseconds and counts up.
    assert_eq!(
        c.cmd(&args(&["XADD", "s", "99999999999999-7", "f", "v"])),
        Reply::bulk("99999999999999-7")
    );
    assert_eq!(
        c.cmd(&args(&["XADD", "s", "*", "f", "v"])),
        Reply::bulk("99999999999999-8")
    );
}

/// splitmix64, as in random_diff.rs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// XADDs of entries whose Redis listpack sizes vary (integers, short and long strings, shared
/// and own field names), with trimming and deletion in between.
fn long_run(seed: u64) -> Vec<Vec<String>> {
    let mut rng = Rng(seed);
    let mut ms = 1u64;
    let mut cmds = Vec::new();
    for i in 0..1500 {
        ms += [0, 0, 1, 3, 1000, 100_000][rng.below(6) as usize];
        let mut c = vec!["XADD".to_string(), "s".into(), format!("{ms}-*")];
        let own_fields = rng.below(4) == 0;
        for f in 0..=rng.below(3) {
            c.push(if own_fields {
                "x".repeat(1 + rng.below(70) as usize)
            } else {
                format!("f{f}")
            });
            c.push(match rng.below(6) {
                0 => (rng.next() as i64 >> rng.below(60)).to_string(),
                1 => "0123".into(),
                2 => "y".repeat(rng.below(300) as usize),
                3 => i.to_string(),
                _ => "value".into(),
            });
        }
        cmds.push(c);
        match rng.below(100) {
            0..=2 => cmds.push(vec![
                "XDEL".into(),
                "s".into(),
                format!("{}-0", ms.saturating_sub(rng.below(3000))),
                format!("{ms}-1"),
            ]),
            3 => cmds.push(vec![
                "XTRIM".into(),
                "s".into(),
                "MAXLEN".into(),
                "~".into(),
                rng.below(400).to_string(),
            ]),
            4 => cmds.push(vec![
                "XTRIM".into(),
                "s".into(),
                "MINID".into(),
                "~".into(),
                ms.saturating_sub(rng.below(200_000)).to_string(),
            ]),
            5 => cmds.push(vec![
                "XTRIM".into(),
                "s".into(),
                "MAXLEN".into(),
                "~".into(),
                "0".into(),
                "LIMIT".into(),
                rng.below(300).to_string(),
            ]),
            6 => cmds.push(vec![
                "XTRIM".into(),
                "s".into(),
                "MAXLEN".into(),
                rng.below(600).to_string(),
            ]),
            7..=9 => cmds.push(vec!["XINFO".into(), "STREAM".into(), "s".into()]),
            _ => {}
        }
    }
    for tail in [
        &["XINFO", "STREAM", "s"][..],
        &["XLEN", "s"],
        &["XRANGE", "s", "-", "+"],
        &["XREVRANGE", "s", "+", "-", "COUNT", "50"],
        &["DEBUG", "DIGEST-VALUE", "s"],
    ] {
        cmds.push(tail.iter().map(|s| s.to_string()).collect());
    }
    cmds
}

#[test]
fn long_runs_split_and_trim_nodes_as_redis_does() {
    let reference = Server::redis(&[]);
    let subject = Server::subject(&[]);
    for (seed, config) in [
        (1, None),
        (2, Some(("stream-node-max-entries", "7"))),
        (3, Some(("stream-node-max-bytes", "300"))),
    ] {
        let mut a = reference.raw();
        let mut b = subject.raw();
        for c in [&mut a, &mut b] {
            c.cmd(&args(&["FLUSHALL"]));
            c.cmd(&args(&["CONFIG", "SET", "stream-node-max-entries", "100"]));
            c.cmd(&args(&["CONFIG", "SET", "stream-node-max-bytes", "4096"]));
            if let Some((name, value)) = config {
                c.cmd(&args(&["CONFIG", "SET", name, value]));
            }
        }
        for cmd in long_run(seed) {
            let refs: Vec<&[u8]> = cmd.iter().map(|s| s.as_bytes()).collect();
            assert_eq!(b.cmd(&refs), a.cmd(&refs), "seed {seed}: {cmd:?}");
        }
    }
}
