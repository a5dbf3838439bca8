use super::*;

// Generated against redis-server 7.0.15: MSET k1 <a> k2 <b>; LCS k1 k2;
// LCS k1 k2 IDX WITHMATCHLEN MINMATCHLEN <n>.
include!("redis_cases.rs");

#[test]
fn matches_redis() {
    for (a, b, mml, want_lcs, want_len, want_matches) in CASES {
        let r = lcs(a, b, true, *mml);
        let ctx = format!(
            "{:?} {:?} minmatchlen={mml}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        );
        assert_eq!(r.lcs, *want_lcs, "{ctx}");
        assert_eq!(r.len, *want_len, "{ctx}");
        assert_eq!(r.matches, *want_matches, "{ctx}");
    }
}

#[test]
fn doc_example() {
    let r = lcs(b"ohmytext", b"mynewtext", true, 0);
    assert_eq!(r.lcs, b"mytext");
    assert_eq!(r.len, 6);
    assert_eq!(r.matches, vec![((4, 7), (5, 8), 4), ((2, 3), (0, 1), 2)]);
    let r = lcs(b"ohmytext", b"mynewtext", true, 4);
    assert_eq!(r.matches, vec![((4, 7), (5, 8), 4)]);
    let r = lcs(b"ohmytext", b"mynewtext", false, 0);
    assert!(r.matches.is_empty());
    assert_eq!(r.lcs, b"mytext");
}

#[test]
fn table_cells() {
    assert_eq!(lcs_table_cells(2, 3), Some(12));
    assert_eq!(lcs_table_cells(usize::MAX, 1), None);
}
