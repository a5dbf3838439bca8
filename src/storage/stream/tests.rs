use super::node::{lp_int_size, lp_str_size};
use super::*;

const LIMITS: NodeLimits = NodeLimits {
    max_bytes: 4096,
    max_entries: 100,
};

fn id(ms: u64, seq: u64) -> StreamId {
    StreamId::new(ms, seq)
}

fn add(s: &mut Stream, i: StreamId, pairs: &[&str]) {
    let p: Vec<&[u8]> = pairs.iter().map(|x| x.as_bytes()).collect();
    s.append(i, &p, LIMITS);
}

fn ids(it: impl Iterator<Item = StreamId>) -> Vec<StreamId> {
    it.collect()
}

fn all_ids(s: &Stream) -> Vec<StreamId> {
    ids(s.range(StreamId::ZERO, StreamId::MAX).map(|e| e.id))
}

#[test]
fn ids_parse_like_redis() {
    let p = |a: &str| parse_id(a.as_bytes(), 7, false, false);
    assert_eq!(p("1-2"), Some(IdArg::Exact(id(1, 2))));
    assert_eq!(p("5"), Some(IdArg::Exact(id(5, 7))));
    assert_eq!(p("-"), Some(IdArg::Exact(StreamId::ZERO)));
    assert_eq!(p("+"), Some(IdArg::Exact(StreamId::MAX)));
    assert_eq!(parse_id(b"+", 0, true, false), None);
    // strtoull's leniency: spaces, a plus sign, leading zeros, "-0".
    assert_eq!(p(" 1-+2"), Some(IdArg::Exact(id(1, 2))));
    assert_eq!(p("007-0"), Some(IdArg::Exact(id(7, 0))));
    assert_eq!(
        p("18446744073709551615-0"),
        Some(IdArg::Exact(id(u64::MAX, 0)))
    );
    assert_eq!(p("18446744073709551616"), None);
    assert_eq!(p("1-2-3"), None);
    assert_eq!(p("1 "), None);
    assert_eq!(p(""), None);
    assert_eq!(p("-1"), None);
    assert_eq!(p("1-*"), None);
    assert_eq!(parse_id(b"1-*", 0, true, true), Some(IdArg::AnySeq(1)));
    // A NUL ends the C string Redis parses.
    assert_eq!(p("3\0junk"), Some(IdArg::Exact(id(3, 7))));
    assert_eq!(&*id(12, 345).text(), b"12-345");
    assert_eq!(
        &*StreamId::MAX.text(),
        b"18446744073709551615-18446744073709551615"
    );
    assert_eq!(id(1, u64::MAX).next(), Some(id(2, 0)));
    assert_eq!(StreamId::MAX.next(), None);
    assert_eq!(id(2, 0).prev(), Some(id(1, u64::MAX)));
    assert_eq!(StreamId::ZERO.prev(), None);
}

#[test]
fn next_ids_never_go_back() {
    let mut s = Stream::new();
    assert_eq!(s.next_id(None, 100), Some(id(100, 0)));
    add(&mut s, id(100, 5), &["a", "1"]);
    assert_eq!(s.next_id(None, 50), Some(id(100, 6)));
    assert_eq!(s.next_id(Some(IdArg::AnySeq(100)), 0), Some(id(100, 6)));
    assert_eq!(s.next_id(Some(IdArg::AnySeq(101)), 0), Some(id(101, 0)));
    assert_eq!(s.next_id(Some(IdArg::AnySeq(99)), 0), None);
    assert_eq!(s.next_id(Some(IdArg::Exact(id(100, 5))), 0), None);
    s.last_id = id(7, u64::MAX);
    assert_eq!(s.next_id(Some(IdArg::AnySeq(7)), 0), None);
}

#[test]
fn entries_keep_their_fields_and_order() {
    let mut s = Stream::new();
    add(&mut s, id(1, 0), &["name", "ann", "age", "30"]);
    add(&mut s, id(1, 1), &["name", "bob", "age", "41"]);
    add(&mut s, id(2, 0), &["other", "x"]);
    add(&mut s, id(5, 3), &[]);
    assert_eq!(s.len(), 4);
    let e = s.get(id(1, 1)).unwrap();
    let f: Vec<(&[u8], &[u8])> = e.fields().collect();
    assert_eq!(f, vec![(&b"name"[..], &b"bob"[..]), (b"age", b"41")]);
    let e = s.get(id(2, 0)).unwrap();
    assert_eq!(
        e.fields().collect::<Vec<_>>(),
        vec![(&b"other"[..], &b"x"[..])]
    );
    assert!(s.get(id(5, 3)).unwrap().is_empty());
    assert!(s.get(id(1, 2)).is_none());
    assert_eq!(
        ids(s.range(id(1, 1), id(2, 0)).map(|e| e.id)),
        vec![id(1, 1), id(2, 0)]
    );
    assert_eq!(
        ids(s.range_rev(id(1, 1), StreamId::MAX).map(|e| e.id)),
        vec![id(5, 3), id(2, 0), id(1, 1)]
    );
    assert_eq!(s.last_valid_id(), id(5, 3));
    assert_eq!(s.first_id, id(1, 0));
}

#[test]
fn nodes_split_where_redis_splits_them() {
    let mut s = Stream::new();
    for i in 0..250 {
        add(&mut s, id(1, i), &["f", "v"]);
    }
    // 100 entries per node by default.
    assert_eq!(s.node_count(), 3);
    let mut big = Stream::new();
    let value = "x".repeat(1000);
    for i in 0..10 {
        add(&mut big, id(1, i), &["f", &value]);
    }
    // About four 1 KB entries fit under 4096 bytes.
    assert_eq!(big.node_count(), 3);
    assert_eq!(lp_int_size(0), 2);
    assert_eq!(lp_int_size(128), 3);
    assert_eq!(lp_int_size(-5000), 4);
    assert_eq!(lp_int_size(1 << 40), 10);
    assert_eq!(lp_str_size(b"123"), 2);
    assert_eq!(lp_str_size(b"0123"), 6);
    assert_eq!(lp_str_size(&[b'a'; 100]), 103);
}

#[test]
fn deletes_leave_tombstones_until_the_node_empties() {
    let mut s = Stream::new();
    for i in 0..150 {
        add(&mut s, id(1, i), &["f", "v"]);
    }
    assert_eq!(s.delete_ids(&[id(1, 0), id(1, 0), id(9, 9)]), 1);
    assert_eq!(s.first_id, id(1, 1));
    assert_eq!(s.max_deleted, id(1, 0));
    assert_eq!(s.node_count(), 2);
    let second: Vec<StreamId> = (100..150).map(|i| id(1, i)).collect();
    assert_eq!(s.delete_ids(&second), 50);
    assert_eq!(s.node_count(), 1);
    assert_eq!(s.len(), 99);
    assert_eq!(s.last_valid_id(), id(1, 99));
    // Tombstones still count towards the node's entry limit.
    add(&mut s, id(2, 0), &["f", "v"]);
    assert_eq!(s.node_count(), 2);
}

#[test]
fn trimming_by_length_and_id() {
    let mut s = Stream::new();
    for i in 0..250 {
        add(&mut s, id(1, i), &["f", "v"]);
    }
    // Approximate trimming removes whole nodes only.
    assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 100);
    assert_eq!(s.len(), 150);
    assert_eq!(s.trim(Trim::MaxLen(120), true, 0), 0);
    assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
    assert_eq!(s.first_id, id(1, 130));
    assert_eq!(s.trim(Trim::MinId(id(1, 140)), false, 0), 10);
    assert_eq!(all_ids(&s)[0], id(1, 140));
    // A limit stops before a node that would pass it.
    let mut t = Stream::new();
    for i in 0..300 {
        add(&mut t, id(1, i), &["f", "v"]);
    }
    assert_eq!(t.trim(Trim::MaxLen(0), true, 150), 100);
    assert_eq!(t.trim(Trim::MaxLen(0), false, 0), 200);
    assert!(t.is_empty());
    assert_eq!(t.first_id, StreamId::ZERO);
    assert_eq!(t.node_count(), 0);
}

#[test]
fn radix_tree_node_counts() {
    let mut s = Stream::new();
    assert_eq!(s.radix_tree_nodes(), 1);
    add(&mut s, id(1, 0), &["f", "v"]);
    // A compressed root and the key's leaf.
    assert_eq!(s.radix_tree_nodes(), 2);
    for i in 1..101 {
        add(&mut s, id(1, i), &["f", "v"]);
    }
    // Keys 1-0 and 1-100 differ in their last byte: root, branch, two leaves.
    assert_eq!(s.node_count(), 2);
    assert_eq!(s.radix_tree_nodes(), 4);
}

fn group_stream() -> Stream {
    let mut s = Stream::new();
    for i in 1..=5 {
        add(&mut s, id(i, 0), &["n", &i.to_string()]);
    }
    assert!(s.create_group(b"g", StreamId::ZERO, Some(0)));
    assert!(!s.create_group(b"g", StreamId::ZERO, None));
    s.group_mut(b"g").unwrap().create_consumer(b"alice", 0);
    s.group_mut(b"g").unwrap().create_consumer(b"bob", 0);
    s
}

#[test]
fn groups_deliver_each_entry_once_and_track_reads() {
    let mut s = group_stream();
    let mut got = Vec::new();
    s.deliver_new(b"g", b"alice", 2, false, 10, |e| {
        got = e.iter().map(|e| e.id).collect()
    });
    assert_eq!(got, vec![id(1, 0), id(2, 0)]);
    s.deliver_new(b"g", b"bob", 0, false, 20, |e| {
        got = e.iter().map(|e| e.id).collect()
    });
    assert_eq!(got, vec![id(3, 0), id(4, 0), id(5, 0)]);
    let g = s.group(b"g").unwrap();
    assert_eq!(g.last_id, id(5, 0));
    assert_eq!(g.entries_read, Some(5));
    assert_eq!(s.lag(g), Some(0));
    assert_eq!(g.pel.len(), 5);
    assert_eq!(g.consumers[&b"bob"[..]].pending.len(), 3);
    // History: the consumer's own pending entries after an id.
    let mut hist = Vec::new();
    s.deliver_history(b"g", b"bob", id(3, 1), 0, 30, |f| {
        hist = f.iter().map(|(i, e)| (*i, e.is_some())).collect()
    });
    assert_eq!(hist, vec![(id(4, 0), true), (id(5, 0), true)]);
    assert_eq!(s.group(b"g").unwrap().pel[&id(4, 0)].delivery_count, 2);
    let g = s.group_mut(b"g").unwrap();
    assert!(g.ack(id(4, 0)));
    assert!(!g.ack(id(4, 0)));
    assert_eq!(g.delete_consumer(b"bob"), Some(2));
    assert_eq!(g.pel.len(), 2);
    assert_eq!(g.delete_consumer(b"bob"), None);
}

#[test]
fn lag_is_unknown_across_tombstones() {
    let mut s = group_stream();
    s.deliver_new(b"g", b"alice", 1, true, 0, |_| {});
    assert_eq!(s.lag(s.group(b"g").unwrap()), Some(4));
    s.delete_ids(&[id(3, 0)]);
    assert_eq!(s.lag(s.group(b"g").unwrap()), None);
    s.deliver_new(b"g", b"alice", 0, true, 0, |_| {});
    let g = s.group(b"g").unwrap();
    assert_eq!((g.entries_read, s.lag(g)), (Some(5), Some(0)));
}

#[test]
fn claims_move_pending_entries() {
    let mut s = group_stream();
    s.deliver_new(b"g", b"alice", 3, false, 100, |_| {});
    let opts = ClaimOptions {
        min_idle: 50,
        delivery_time: 200,
        retry_count: None,
        force: false,
        just_id: false,
        now: 120,
    };
    // Not idle long enough.
    assert_eq!(s.claim(b"g", b"bob", &[id(1, 0)], opts).0, vec![]);
    let later = ClaimOptions { now: 200, ..opts };
    let (claimed, created) = s.claim(b"g", b"carol", &[id(1, 0), id(4, 0)], later);
    assert_eq!((claimed, created), (vec![id(1, 0)], true));
    let g = s.group(b"g").unwrap();
    assert_eq!(&*g.pel[&id(1, 0)].consumer, b"carol");
    assert_eq!(g.pel[&id(1, 0)].delivery_count, 2);
    assert!(!g.consumers[&b"alice"[..]].pending.contains(&id(1, 0)));
    // FORCE makes a pending entry out of an undelivered one.
    let force = ClaimOptions {
        force: true,
        min_idle: 0,
        ..later
    };
    assert_eq!(s.claim(b"g", b"bob", &[id(4, 0)], force).0, vec![id(4, 0)]);
    assert_eq!(s.group(b"g").unwrap().pel[&id(4, 0)].delivery_count, 2);
    // A pending entry whose stream entry is gone is dropped.
    s.delete_ids(&[id(2, 0)]);
    assert_eq!(s.claim(b"g", b"bob", &[id(2, 0)], force).0, vec![]);
    assert!(!s.group(b"g").unwrap().pel.contains_key(&id(2, 0)));
}

#[test]
fn auto_claim_scans_with_a_cursor() {
    let mut s = group_stream();
    s.deliver_new(b"g", b"alice", 0, false, 0, |_| {});
    s.delete_ids(&[id(2, 0)]);
    let opts = ClaimOptions {
        min_idle: 0,
        delivery_time: 10,
        retry_count: None,
        force: false,
        just_id: false,
        now: 10,
    };
    let done = s.auto_claim(b"g", b"bob", StreamId::ZERO, 2, opts);
    assert_eq!(done.claimed, vec![id(1, 0)]);
    assert_eq!(done.deleted, vec![id(2, 0)]);
    assert_eq!(done.next, id(3, 0));
    assert!(!done.created);
    let just_id = ClaimOptions {
        just_id: true,
        ..opts
    };
    let done = s.auto_claim(b"g", b"bob", done.next, 10, just_id);
    assert_eq!(done.claimed, vec![id(3, 0), id(4, 0), id(5, 0)]);
    assert_eq!(done.next, StreamId::ZERO);
    // JUSTID leaves the delivery counter alone.
    assert_eq!(s.group(b"g").unwrap().pel[&id(3, 0)].delivery_count, 1);
}
