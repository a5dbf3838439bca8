//! Differential tests: every corpus file in `tests/corpus` is replayed on a
//! real redis-server and on ferrodis (or, with `FERRODIS_DIFF_SELFTEST=1`, on
//! a second redis-server) and the replies are compared exactly.
//! See `tests/common/corpus.rs` for the corpus format.

mod common;

use common::corpus::{corpus_dir, parse_corpus, run_corpus_file};

/// One #[test] per corpus file, so failures are reported per file.
macro_rules! corpus_tests {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                run_corpus_file($file);
            }
        )*

        const LISTED: &[&str] = &[$($file),*];
    };
}

corpus_tests! {
    corpus_strings => "strings.redis",
    corpus_bitmaps => "bitmaps.redis",
    corpus_keys => "keys.redis",
    corpus_server => "server.redis",
    corpus_resp3 => "resp3.redis",
    corpus_transactions => "transactions.redis",
    corpus_pubsub => "pubsub.redis",
    corpus_hashes => "hashes.redis",
    corpus_sets => "sets.redis",
    corpus_hyperloglog => "hyperloglog.redis",
    corpus_latency => "latency.redis",
    corpus_lists => "lists.redis",
    corpus_memory => "memory.redis",
    corpus_sort => "sort.redis",
    corpus_sorted_sets => "sorted_sets.redis",
    corpus_geo => "geo.redis",
    corpus_streams => "streams.redis",
    corpus_scripting_libs => "scripting_libs.redis",
    corpus_scripting => "scripting.redis",
    corpus_dump => "dump.redis",
    corpus_acl => "acl.redis",
}

/// Every corpus file must be listed above (and every listed file must parse),
/// so a new file cannot be silently skipped.
#[test]
fn every_corpus_file_is_listed_and_parses() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(corpus_dir()).expect("tests/corpus exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "redis") {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if !LISTED.contains(&name.as_str()) {
                missing.push(name.clone());
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if let Err(e) = parse_corpus(&text) {
                panic!("{name}:{e}");
            }
        }
    }
    assert!(
        missing.is_empty(),
        "corpus files not listed in corpus_tests! in tests/differential.rs: {missing:?}"
    );
}

#[test]
fn corpus_parser_understands_redis_cli_quoting() {
    use common::corpus::split_args;
    let v = |s: &str| split_args(s).unwrap();
    assert_eq!(
        v(r#"SET k "a b""#),
        vec![b"SET".to_vec(), b"k".to_vec(), b"a b".to_vec()]
    );
    assert_eq!(v(r#"SET k "\x00\xff\n\"""#)[2], b"\x00\xff\n\"".to_vec());
    assert_eq!(v(r"SET k 'it\'s'")[2], b"it's".to_vec());
    assert_eq!(v(r#"SET k """#)[2], b"".to_vec());
    assert_eq!(v("  a   b  ").len(), 2);
    assert!(split_args(r#"SET k "unterminated"#).is_none());
    assert!(split_args(r#"SET k "a"b"#).is_none());
}

/// The runner really detects divergences: two redis-servers whose datasets
/// differ must produce mismatches with file:line and both replies.
#[test]
fn runner_reports_mismatches() {
    use common::Server;
    use common::corpus::{Side, run_steps};
    let mut a = Side::new(Server::redis(&[]));
    let mut b = Side::new(Server::redis(&[]));
    b.conn.cmd_str(&["SET", "only-on-b", "1"]);
    let steps = parse_corpus(
        "# comment\n\nGET only-on-b\n@sorted\nKEYS *\n@skip-reply differs\nGET only-on-b\nPING\n",
    )
    .unwrap();
    let report = run_steps("inline.redis", &steps, &mut a, &mut b);
    let lines: Vec<usize> = report.mismatches.iter().map(|m| m.line).collect();
    assert_eq!(lines, vec![3, 5], "{}", report.render());
    assert_eq!(report.mismatches[0].reference, "(nil)");
    assert_eq!(report.mismatches[0].subject, "\"1\"");
    assert_eq!(report.skipped, 1);
    assert!(report.render().contains("inline.redis:3: GET only-on-b"));
}

/// A server that stops answering fails the run quickly instead of making
/// every remaining command wait for the read timeout.
#[test]
fn runner_aborts_when_a_server_goes_silent() {
    use common::Server;
    use common::corpus::{Side, run_steps};
    use std::time::{Duration, Instant};
    let mut a = Side::new(Server::redis(&[]));
    let mut b = Side::new(Server::redis(&[]));
    let mut admin = b.server.raw();
    assert_eq!(
        admin.cmd_str(&["CLIENT", "PAUSE", "60000", "ALL"]),
        common::Reply::ok()
    );
    b.conn.set_read_timeout(Duration::from_millis(300));
    let steps = parse_corpus("PING\nPING\nPING\nPING\n").unwrap();
    let start = Instant::now();
    let report = run_steps("silent.redis", &steps, &mut a, &mut b);
    assert!(start.elapsed() < Duration::from_secs(5));
    let commands: Vec<&str> = report
        .mismatches
        .iter()
        .map(|m| m.command.as_str())
        .collect();
    assert_eq!(
        commands,
        vec!["PING", "(run aborted)"],
        "{}",
        report.render()
    );
}
