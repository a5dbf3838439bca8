//! MULTI/EXEC with real clients: WATCH invalidation from another client and from expiry,
//! atomicity across shards under concurrent readers, and the redis crate's atomic pipelines.

mod common;

use std::time::{Duration, Instant};

use common::{Reply, Server};

#[test]
fn watch_is_invalidated_by_another_client_and_by_expiry() {
    let s = Server::ferrodis(&[]);
    let mut a = s.raw();
    let mut b = s.raw();
    a.cmd_str(&["SET", "k", "1"]);
    assert_eq!(a.cmd_str(&["WATCH", "k"]), Reply::ok());
    assert_eq!(b.cmd_str(&["SET", "k", "2"]), Reply::ok());
    a.cmd_str(&["MULTI"]);
    assert_eq!(a.cmd_str(&["SET", "k", "3"]), Reply::simple("QUEUED"));
    assert_eq!(a.cmd_str(&["EXEC"]), Reply::Array(None));
    assert_eq!(a.cmd_str(&["GET", "k"]), Reply::bulk("2"));

    // A watched key that expires before EXEC makes the transaction fail.
    a.cmd_str(&["SET", "e", "v", "PX", "30"]);
    a.cmd_str(&["WATCH", "e"]);
    let start = Instant::now();
    while b.cmd_str(&["PTTL", "e"]) != Reply::Int(-2) {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(5));
    }
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["SET", "e", "new"]);
    assert_eq!(a.cmd_str(&["EXEC"]), Reply::Array(None));

    // After EXEC the watch is gone: a later write by someone else does not matter.
    a.cmd_str(&["WATCH", "k"]);
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["GET", "k"]);
    assert_eq!(a.cmd_str(&["EXEC"]), Reply::array(vec![Reply::bulk("2")]));
    b.cmd_str(&["SET", "k", "9"]);
    a.cmd_str(&["MULTI"]);
    a.cmd_str(&["GET", "k"]);
    assert_eq!(a.cmd_str(&["EXEC"]), Reply::array(vec![Reply::bulk("9")]));
}

#[test]
fn exec_is_atomic_across_shards_for_concurrent_readers() {
    let s = Server::ferrodis(&[]);
    let port = s.port;
    let writer = std::thread::spawn(move || {
        let mut w = common::Raw::connect(port);
        for _ in 0..300 {
            w.send(&[b"MULTI"]);
            for k in 0..10 {
                w.send(&[b"INCR", format!("counter:{k}").as_bytes()]);
            }
            w.send(&[b"EXEC"]);
            for _ in 0..12 {
                w.read_reply();
            }
        }
    });
    let mut r = s.raw();
    let keys: Vec<String> = (0..10).map(|k| format!("counter:{k}")).collect();
    let mut args: Vec<&[u8]> = vec![b"MGET"];
    args.extend(keys.iter().map(|k| k.as_bytes()));
    let mut checks = 0;
    while !writer.is_finished() || checks == 0 {
        let reply = r.cmd(&args);
        let values: Vec<Option<Vec<u8>>> = reply
            .items()
            .unwrap()
            .iter()
            .map(|v| v.bytes().map(<[u8]>::to_vec))
            .collect();
        assert!(
            values.windows(2).all(|w| w[0] == w[1]),
            "a reader saw a half-applied transaction: {values:?}"
        );
        checks += 1;
    }
    writer.join().unwrap();
    assert_eq!(r.cmd_str(&["GET", "counter:9"]), Reply::bulk("300"));
}

#[test]
fn redis_crate_atomic_pipeline() {
    let s = Server::ferrodis(&[]);
    let mut c = s.client();
    let (n, v): (i64, String) = redis::pipe()
        .atomic()
        .cmd("INCRBY")
        .arg("n")
        .arg(5)
        .cmd("SET")
        .arg("s")
        .arg("x")
        .ignore()
        .cmd("GET")
        .arg("s")
        .query(&mut c)
        .unwrap();
    assert_eq!((n, v.as_str()), (5, "x"));
}
