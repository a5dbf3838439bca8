//! Pub/sub with real subscribers: delivery across clients, patterns, RESP3 push frames and
//! their order, a real redis-crate subscriber, and a slow subscriber cut off by
//! client-output-buffer-limit.

mod common;

use std::time::Duration;

use common::{Raw, Reply, Server};

fn push(items: &[&str]) -> Reply {
    Reply::Push(items.iter().map(|s| Reply::bulk(*s)).collect())
}

#[test]
fn messages_reach_channel_and_pattern_subscribers() {
    let s = Server::ferrodis(&[]);
    let mut sub = s.raw();
    sub.send(&[b"SUBSCRIBE", b"news", b"sport"]);
    assert_eq!(
        sub.read_reply(),
        Reply::array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("news"),
            Reply::Int(1)
        ])
    );
    assert_eq!(
        sub.read_reply(),
        Reply::array(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("sport"),
            Reply::Int(2)
        ])
    );
    sub.send(&[b"PSUBSCRIBE", b"n*"]);
    assert_eq!(
        sub.read_reply(),
        Reply::array(vec![
            Reply::bulk("psubscribe"),
            Reply::bulk("n*"),
            Reply::Int(3)
        ])
    );

    let mut publisher = s.raw();
    assert_eq!(
        publisher.cmd_str(&["PUBLISH", "news", "hello"]),
        Reply::Int(2)
    );
    assert_eq!(
        publisher
            .cmd_str(&["PUBSUB", "NUMSUB", "news", "sport", "none"])
            .items()
            .unwrap()
            .len(),
        6
    );
    assert_eq!(publisher.cmd_str(&["PUBSUB", "NUMPAT"]), Reply::Int(1));
    let mut got = vec![sub.read_reply(), sub.read_reply()];
    got.sort();
    let mut want = vec![
        Reply::array(
            ["message", "news", "hello"]
                .iter()
                .map(|s| Reply::bulk(*s))
                .collect(),
        ),
        Reply::array(
            ["pmessage", "n*", "news", "hello"]
                .iter()
                .map(|s| Reply::bulk(*s))
                .collect(),
        ),
    ];
    want.sort();
    assert_eq!(got, want);

    // Unsubscribing from everything replies once per subscription, then the count is 0.
    sub.send(&[b"UNSUBSCRIBE"]);
    let a = sub.read_reply();
    let b = sub.read_reply();
    assert_eq!(b.items().unwrap()[2], Reply::Int(1), "{a:?} {b:?}");
    drop(sub);
    // A disconnected subscriber leaves nothing behind.
    let start = std::time::Instant::now();
    while publisher.cmd_str(&["PUBLISH", "n1", "x"]) != Reply::Int(0) {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn resp3_pushes_interleave_with_replies_in_redis_order() {
    let s = Server::ferrodis(&[]);
    let mut c = s.raw();
    c.cmd_str(&["HELLO", "3"]);
    c.send(&[b"SUBSCRIBE", b"ch"]);
    assert_eq!(
        c.read_reply(),
        Reply::Push(vec![
            Reply::bulk("subscribe"),
            Reply::bulk("ch"),
            Reply::Int(1)
        ])
    );
    // In RESP3 a subscribed client may run any command.
    assert_eq!(c.cmd_str(&["SET", "k", "v"]), Reply::ok());
    // Publishing to its own channel: the message comes before PUBLISH's count, as in Redis.
    c.send(&[b"PUBLISH", b"ch", b"m"]);
    assert_eq!(c.read_reply(), push(&["message", "ch", "m"]));
    assert_eq!(c.read_reply(), Reply::Int(1));
    let mut other = s.raw();
    other.cmd_str(&["PUBLISH", "ch", "from-other"]);
    assert_eq!(c.read_reply(), push(&["message", "ch", "from-other"]));
}

#[test]
fn redis_crate_subscriber_receives_messages() {
    let s = Server::ferrodis(&[]);
    let mut conn = s.client();
    let mut pubsub = conn.as_pubsub();
    pubsub.subscribe("jobs").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut p = s.raw();
    assert_eq!(p.cmd_str(&["PUBLISH", "jobs", "job-1"]), Reply::Int(1));
    let msg = pubsub.get_message().unwrap();
    assert_eq!(msg.get_channel_name(), "jobs");
    let payload: String = msg.get_payload().unwrap();
    assert_eq!(payload, "job-1");
}

#[test]
fn a_subscriber_that_does_not_read_is_disconnected_at_the_hard_limit() {
    let s = Server::ferrodis(&["--client-output-buffer-limit", "pubsub 256kb 0 0"]);
    let mut slow = s.raw();
    slow.send(&[b"SUBSCRIBE", b"firehose"]);
    slow.read_reply();
    let mut p = s.raw();
    let payload = vec![b'x'; 16 * 1024];
    // The slow client never reads; its socket buffers fill, then its queue; past 256 KB
    // of queued messages the server drops it and PUBLISH counts no receiver.
    let start = std::time::Instant::now();
    loop {
        if p.cmd(&[b"PUBLISH", b"firehose", &payload]) == Reply::Int(0) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "slow subscriber never cut off"
        );
    }
    // The killed connection drops its subscriptions as its task ends: wait for that.
    let mut check = Raw::connect(s.port);
    let start = std::time::Instant::now();
    while check
        .cmd_str(&["PUBSUB", "NUMSUB", "firehose"])
        .items()
        .unwrap()[1]
        != Reply::Int(0)
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "killed subscriber still subscribed"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn client_list_and_kill_see_subscribers_as_pubsub_clients() {
    let s = Server::ferrodis(&[]);
    let mut sub = s.raw();
    sub.send(&[b"SUBSCRIBE", b"x"]);
    sub.read_reply();
    let mut admin = s.raw();
    let list = |r: &mut Raw, t: &str| match r.cmd_str(&["CLIENT", "LIST", "TYPE", t]) {
        Reply::Bulk(Some(b)) => String::from_utf8(b).unwrap(),
        other => panic!("{other:?}"),
    };
    let pubsub = list(&mut admin, "pubsub");
    assert_eq!(pubsub.lines().count(), 1, "{pubsub}");
    assert!(
        pubsub.contains(" flags=P ") && pubsub.contains(" sub=1 "),
        "{pubsub}"
    );
    // The harness's start-up PING connection may not be unregistered yet: wait for it to go.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while list(&mut admin, "normal").lines().count() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "{}",
            list(&mut admin, "normal")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        admin.cmd_str(&["CLIENT", "KILL", "TYPE", "pubsub"]),
        Reply::Int(1)
    );
    sub.expect_closed(Duration::from_secs(10)).unwrap();
}
