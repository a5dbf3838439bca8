//! Keyspace notifications compared with a real redis-server: each line of
//! `tests/events/*.redis` runs on both servers while a subscriber listens to
//! every `__key*__` channel; the events each command produced (channel and
//! payload, in order) must be identical. Also checks that "expired" fires when
//! a key really expires, from the active cycle and from lazy access.

mod common;

use std::time::{Duration, Instant};

use common::corpus::{corpus_dir, render_args, split_args};
use common::{Raw, Reply, Server};

const MARKER: &str = "__keyevent@0__:zz-end-of-command";

/// One server with a command connection and a subscriber to all key events.
struct Side {
    _server: Server,
    cmd: Raw,
    sub: Raw,
}

impl Side {
    fn new(server: Server, flags: &str) -> Side {
        let mut cmd = server.raw();
        assert_eq!(
            cmd.cmd_str(&["CONFIG", "SET", "notify-keyspace-events", flags]),
            Reply::ok()
        );
        let mut sub = server.raw();
        sub.send(&[b"PSUBSCRIBE", b"__key*__:*"]);
        sub.read_reply();
        Side {
            _server: server,
            cmd,
            sub,
        }
    }

    /// Runs one command; returns its reply and the events it caused.
    fn run(&mut self, args: &[Vec<u8>]) -> (Reply, Vec<String>) {
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let reply = self.cmd.cmd(&refs);
        self.cmd.cmd_str(&["PUBLISH", MARKER, "end"]);
        let mut events = Vec::new();
        loop {
            let m = self.sub.read_reply();
            let items = m.items().expect("pmessage").to_vec();
            let channel = String::from_utf8_lossy(items[2].bytes().unwrap()).into_owned();
            let payload = String::from_utf8_lossy(items[3].bytes().unwrap()).into_owned();
            if channel == MARKER {
                break;
            }
            events.push(format!("{channel} {payload}"));
        }
        (reply, events)
    }
}

/// Runs an events file; returns how many events redis-server produced.
fn run_events_file(name: &str, flags: &str) -> usize {
    let path = corpus_dir().join("../events").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut reference = Side::new(Server::redis(&[]), flags);
    let mut subject = Side::new(Server::subject(&[]), flags);
    let mut total = 0;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let args = split_args(line).unwrap_or_else(|| panic!("{name}:{}: bad quoting", n + 1));
        let (want_reply, want) = reference.run(&args);
        let (got_reply, got) = subject.run(&args);
        total += want.len();
        assert_eq!(
            (got_reply, got),
            (want_reply, want),
            "{name}:{}: {}",
            n + 1,
            render_args(&args)
        );
    }
    total
}

#[test]
fn generic_and_string_events_match_redis() {
    assert!(run_events_file("keyspace.redis", "KEA") > 80);
}

#[test]
fn new_and_keymiss_events_match_redis() {
    assert!(run_events_file("keyspace.redis", "KEAnm") > 100);
}

#[test]
fn keyevent_only_and_single_classes_match_redis() {
    assert!(run_events_file("keyspace.redis", "Eg") > 20);
    assert!(run_events_file("keyspace.redis", "K$") > 20);
}

/// Reads messages until one on `channel` arrives (or the deadline passes).
fn wait_for(sub: &mut Raw, channel: &str, deadline: Instant) -> Option<String> {
    sub.set_read_timeout(Duration::from_millis(200));
    while Instant::now() < deadline {
        if let Ok(m) = sub.try_read_reply() {
            let items = m.items().unwrap().to_vec();
            // ["message", channel, payload]
            if items[1].bytes() == Some(channel.as_bytes()) {
                return Some(String::from_utf8_lossy(items[2].bytes().unwrap()).into_owned());
            }
        }
    }
    None
}

#[test]
fn expired_fires_when_the_key_really_expires() {
    let s = Server::ferrodis(&["--notify-keyspace-events", "Ex"]);
    let mut cmd = s.raw();
    let mut sub = s.raw();
    sub.send(&[b"SUBSCRIBE", b"__keyevent@0__:expired"]);
    sub.read_reply();

    // Active cycle: nobody touches the key.
    let set_at = Instant::now();
    cmd.cmd_str(&["SET", "soon", "v", "PX", "100"]);
    let got = wait_for(
        &mut sub,
        "__keyevent@0__:expired",
        Instant::now() + Duration::from_secs(10),
    );
    assert_eq!(got.as_deref(), Some("soon"));
    assert!(
        set_at.elapsed() >= Duration::from_millis(100),
        "fired early"
    );

    // Lazy access: with active expiry off, GET after the deadline fires it.
    assert_eq!(
        cmd.cmd_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        Reply::ok()
    );
    cmd.cmd_str(&["SET", "lazy", "v", "PX", "1"]);
    let until = Instant::now() + Duration::from_millis(5);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
    assert_eq!(cmd.cmd_str(&["GET", "lazy"]), Reply::nil());
    let got = wait_for(
        &mut sub,
        "__keyevent@0__:expired",
        Instant::now() + Duration::from_secs(10),
    );
    assert_eq!(got.as_deref(), Some("lazy"));
}
