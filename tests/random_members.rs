//! HRANDFIELD, SRANDMEMBER and SPOP checked by their properties (their replies are random, so
//! the differential tests only see their deterministic forms): members belong to the
//! collection, positive counts are distinct, negative counts repeat, values go with their
//! fields, SPOP removes exactly what it returns, and picks are roughly uniform. Every check runs
//! on both encodings of each type.

mod common;

use std::collections::{HashMap, HashSet};

use common::{Raw, Reply, Server};

fn bulks(r: &Reply) -> Vec<Vec<u8>> {
    let items = match r {
        Reply::Set(items) => items.as_slice(),
        other => other
            .items()
            .unwrap_or_else(|| panic!("not an array: {other}")),
    };
    items.iter().map(|i| i.bytes().unwrap().to_vec()).collect()
}

fn distinct(items: &[Vec<u8>]) -> usize {
    items.iter().collect::<HashSet<_>>().len()
}

/// Every name picked `draws` times in total lands near `draws / names`. Redis's own sampling of
/// small hash tables is visibly biased, so against redis-server (selftest) only coverage is
/// checked.
fn assert_roughly_uniform(picks: &[Vec<u8>], names: usize) {
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for p in picks {
        *counts.entry(p).or_default() += 1;
    }
    assert_eq!(counts.len(), names, "every member is picked at some point");
    if common::selftest() {
        return;
    }
    let expected = picks.len() / names;
    for (name, n) in counts {
        assert!(
            n > expected * 7 / 10 && n < expected * 13 / 10,
            "{} picked {n} times, expected about {expected}",
            String::from_utf8_lossy(name)
        );
    }
}

fn hash_with_ten_fields(c: &mut Raw, key: &str) -> HashMap<Vec<u8>, Vec<u8>> {
    let mut args = vec!["HSET".to_string(), key.to_string()];
    let mut fields = HashMap::new();
    for i in 0..10 {
        args.push(format!("f{i}"));
        args.push(format!("v{i}"));
        fields.insert(format!("f{i}").into_bytes(), format!("v{i}").into_bytes());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd_str(&refs), Reply::Int(10));
    fields
}

#[test]
fn hrandfield_counts_values_and_distribution() {
    let s = Server::subject(&[]);
    let mut c = s.raw();
    c.cmd_str(&["CONFIG", "SET", "hash-max-listpack-entries", "128"]);
    let small = hash_with_ten_fields(&mut c, "small");
    c.cmd_str(&["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    hash_with_ten_fields(&mut c, "big");
    assert_eq!(
        c.cmd_str(&["OBJECT", "ENCODING", "small"]),
        Reply::bulk("listpack")
    );
    assert_eq!(
        c.cmd_str(&["OBJECT", "ENCODING", "big"]),
        Reply::bulk("hashtable")
    );
    for key in ["small", "big"] {
        let one = c.cmd_str(&["HRANDFIELD", key]);
        assert!(small.contains_key(one.bytes().unwrap()));
        for count in [1, 2, 3, 5, 8, 9, 10, 20] {
            let got = bulks(&c.cmd_str(&["HRANDFIELD", key, &count.to_string()]));
            assert_eq!(got.len(), count.min(10), "{key} {count}");
            assert_eq!(distinct(&got), got.len(), "{key} {count}: distinct");
            assert!(got.iter().all(|f| small.contains_key(f)));
        }
        let pairs = bulks(&c.cmd_str(&["HRANDFIELD", key, "6", "WITHVALUES"]));
        assert_eq!(pairs.len(), 12);
        for p in pairs.chunks(2) {
            assert_eq!(small.get(&p[0]), Some(&p[1]), "value goes with its field");
        }
        // Negative counts: exactly that many, repeats allowed (20 from 10 must repeat).
        let got = bulks(&c.cmd_str(&["HRANDFIELD", key, "-20"]));
        assert_eq!(got.len(), 20);
        assert!(distinct(&got) < 20);
        let pairs = bulks(&c.cmd_str(&["HRANDFIELD", key, "-7", "WITHVALUES"]));
        assert_eq!(pairs.len(), 14);
        for p in pairs.chunks(2) {
            assert_eq!(small.get(&p[0]), Some(&p[1]));
        }
        assert_roughly_uniform(&bulks(&c.cmd_str(&["HRANDFIELD", key, "-20000"])), 10);
    }
    // RESP3: WITHVALUES gives [field, value] pairs.
    c.cmd_str(&["HELLO", "3"]);
    let r = c.cmd_str(&["HRANDFIELD", "big", "-3", "WITHVALUES"]);
    let items = r.items().expect("array");
    assert_eq!(items.len(), 3);
    for pair in items {
        let pair = bulks(pair);
        assert_eq!(small.get(&pair[0]), Some(&pair[1]));
    }
}

#[test]
fn srandmember_and_spop_on_both_encodings() {
    let s = Server::subject(&[]);
    let mut c = s.raw();
    let ints: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    let words: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
    for (key, members, encoding) in [("ints", &ints, "intset"), ("words", &words, "hashtable")] {
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(String::as_str));
        assert_eq!(c.cmd_str(&args), Reply::Int(20));
        assert_eq!(
            c.cmd_str(&["OBJECT", "ENCODING", key]),
            Reply::bulk(encoding)
        );
        let all: HashSet<Vec<u8>> = members.iter().map(|m| m.as_bytes().to_vec()).collect();

        let one = c.cmd_str(&["SRANDMEMBER", key]);
        assert!(all.contains(one.bytes().unwrap()));
        for count in [1, 3, 6, 7, 15, 19, 20, 50] {
            let got = bulks(&c.cmd_str(&["SRANDMEMBER", key, &count.to_string()]));
            assert_eq!(got.len(), count.min(20));
            assert_eq!(distinct(&got), got.len());
            assert!(got.iter().all(|m| all.contains(m)));
        }
        let got = bulks(&c.cmd_str(&["SRANDMEMBER", key, "-30"]));
        assert_eq!(got.len(), 30);
        assert!(distinct(&got) < 30);
        assert_roughly_uniform(&bulks(&c.cmd_str(&["SRANDMEMBER", key, "-40000"])), 20);

        // SPOP removes exactly what it returns.
        let popped = bulks(&c.cmd_str(&["SPOP", key, "5"]));
        assert_eq!(popped.len(), 5);
        assert_eq!(distinct(&popped), 5);
        let single = c.cmd_str(&["SPOP", key]).bytes().unwrap().to_vec();
        assert_eq!(c.cmd_str(&["SCARD", key]), Reply::Int(14));
        let rest = bulks(&c.cmd_str(&["SMEMBERS", key]));
        let mut seen: HashSet<Vec<u8>> = rest.into_iter().collect();
        for p in popped.iter().chain([&single]) {
            assert!(all.contains(p));
            assert!(
                seen.insert(p.clone()),
                "a popped member is still in the set"
            );
        }
        assert_eq!(seen, all);
        let last = bulks(&c.cmd_str(&["SPOP", key, "100"]));
        assert_eq!(last.len(), 14);
        assert_eq!(c.cmd_str(&["EXISTS", key]), Reply::Int(0));
    }
}

#[test]
fn spop_picks_are_roughly_uniform() {
    let s = Server::subject(&[]);
    let mut c = s.raw();
    let mut counts: HashMap<Vec<u8>, usize> = HashMap::new();
    for _ in 0..2000 {
        c.cmd_str(&["SADD", "s", "a", "b", "c", "d", "1", "2", "3", "4"]);
        let p = c.cmd_str(&["SPOP", "s"]).bytes().unwrap().to_vec();
        *counts.entry(p).or_default() += 1;
        c.cmd_str(&["DEL", "s"]);
    }
    assert_eq!(counts.len(), 8);
    if !common::selftest() {
        assert!(counts.values().all(|&n| n > 150 && n < 350), "{counts:?}");
    }
}
